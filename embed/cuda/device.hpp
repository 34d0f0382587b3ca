// Which GPU this rank uses and how much memory it has. One GPU per MPI rank, chosen by the
// node-local rank so 8 ranks on a DGX node use GPUs 0..7.
#pragma once
#include <cstdint>
#include <string>

namespace esm::embed::cuda {

struct DeviceInfo {
  int index = 0, count = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  uint64_t free_bytes = 0, total_bytes = 0;
};

// Picks and activates (cudaSetDevice) a GPU: `requested` >= 0 wins; else the node-local rank
// (a single visible GPU is shared by index 0, e.g. Slurm --gpus-per-task=1). Throws esm::Error
// with what is visible when no GPU can be used (none, driver missing, local rank >= count,
// compute capability below 8.0).
DeviceInfo select_device(int requested, int local_rank);

std::string format_bytes(uint64_t bytes);  // "12.3 GiB"

}  // namespace esm::embed::cuda
