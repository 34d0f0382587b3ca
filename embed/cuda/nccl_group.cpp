#include "cuda/nccl_group.hpp"

#include "core/error.hpp"

namespace esm::embed::cuda {

namespace {
void check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) fail("NCCL error in ", what, ": ", ncclGetErrorString(r));
}
}  // namespace

NcclGroup::NcclGroup(MPI_Comm group) {
  int rank = 0;
  MPI_Comm_rank(group, &rank);
  MPI_Comm_size(group, &size_);
  ncclUniqueId id;
  if (rank == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, group);
  check(ncclCommInitRank(&comm_, size_, id, rank), "ncclCommInitRank");
}

NcclGroup::~NcclGroup() {
  if (comm_) ncclCommDestroy(comm_);
}

void NcclGroup::allreduce_sum(float* data, size_t count, cudaStream_t s) {
  check(ncclAllReduce(data, data, count, ncclFloat32, ncclSum, comm_, s), "ncclAllReduce");
}

}  // namespace esm::embed::cuda
