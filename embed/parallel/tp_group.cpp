#include "parallel/tp_group.hpp"

#include <cstdlib>
#include <string>

#include "core/error.hpp"

namespace esm::embed::parallel {

namespace {
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  return (*end == '\0' && x >= 0) ? static_cast<int>(x) : -1;
}
}  // namespace

int node_local_rank(MPI_Comm world) {
  // Always split so the call is collective whatever the environment says (no rank may skip it).
  MPI_Comm node;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int shared_rank = 0;
  MPI_Comm_rank(node, &shared_rank);
  MPI_Comm_free(&node);
  const int env = env_local_rank();
  return env >= 0 ? env : shared_rank;
}

int env_local_rank() {
  for (const char* name : {"SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                           "MV2_COMM_WORLD_LOCAL_RANK"}) {
    int v = env_int(name);
    if (v >= 0) return v;
  }
  return -1;
}

TpGroup make_tp_group(MPI_Comm world, int tp) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  if (tp < 1) fail("--tensor-parallel must be at least 1 (got ", tp, ")");
  if (size % tp != 0)
    fail("--tensor-parallel ", tp, " needs a rank count that is a multiple of it (", size, " ranks)");
  TpGroup g;
  g.tp_size = tp;
  g.tp_rank = rank % tp;
  g.group = rank / tp;
  g.num_groups = size / tp;
  MPI_Comm_split(world, g.group, g.tp_rank, &g.comm);
  // A group must live on one node: its shared-memory sub-communicator is the whole group.
  MPI_Comm node;
  MPI_Comm_split_type(g.comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int node_size = 0;
  MPI_Comm_size(node, &node_size);
  MPI_Comm_free(&node);
  int ok = node_size == tp ? 1 : 0, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, world);
  if (!all_ok) {
    MPI_Comm_free(&g.comm);
    fail("--tensor-parallel ", tp, ": a group of ", tp,
         " consecutive ranks spans more than one node; place ranks so that each node holds a "
         "multiple of ", tp, " consecutive ranks (e.g. --ntasks-per-node a multiple of ", tp, ")");
  }
  return g;
}

void free_tp_group(TpGroup& group) {
  if (group.comm != MPI_COMM_NULL) MPI_Comm_free(&group.comm);
  group.comm = MPI_COMM_NULL;
}

}  // namespace esm::embed::parallel
