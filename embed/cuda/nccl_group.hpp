// The NCCL communicator of one tensor-parallel group (ranks of one node, one GPU each),
// bootstrapped over the group's MPI communicator.
#pragma once
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <cstddef>

namespace esm::embed::cuda {

class NcclGroup {
 public:
  NcclGroup(MPI_Comm group);  // collective over `group`; the CUDA device must already be set
  ~NcclGroup();
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  void allreduce_sum(float* data, size_t count, cudaStream_t s);
  int size() const { return size_; }

 private:
  ncclComm_t comm_ = nullptr;
  int size_ = 1;
};

}  // namespace esm::embed::cuda
