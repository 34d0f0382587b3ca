// Which ranks form a tensor-parallel group. Groups are runs of `tp` consecutive ranks that
// must share a node (NCCL all-reduce over NVLink; MPI on CPU). Every rank of a group gets the
// same sequences (the driver shards input by group, not by rank) and tp_rank 0 writes them.
#pragma once
#include <mpi.h>

namespace esm::embed::parallel {

struct TpGroup {
  int tp_size = 1, tp_rank = 0;       // position inside the group
  int group = 0, num_groups = 1;      // data-parallel index of the group
  MPI_Comm comm = MPI_COMM_NULL;      // the group's ranks (owned; MPI_COMM_SELF-like for tp 1)
};

// Collective over `world`. Throws esm::Error when the world size is not a multiple of tp or
// a group would span two nodes.
TpGroup make_tp_group(MPI_Comm world, int tp);
void free_tp_group(TpGroup& group);

// Node-local rank of this process: SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK,
// MPI_LOCALRANKID, MV2_COMM_WORLD_LOCAL_RANK, else the rank within MPI_COMM_TYPE_SHARED of
// `world` (collective only in that last case, so call it on every rank).
int node_local_rank(MPI_Comm world);
// The node-local rank the launcher put in the environment (same variables), -1 if none.
int env_local_rank();

}  // namespace esm::embed::parallel
