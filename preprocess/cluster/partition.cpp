#include "cluster/partition.hpp"

#include "core/mpi_env.hpp"

namespace esm::cluster {

Partition make_partition(uint64_t local_count) {
  std::vector<uint64_t> counts = mpi::allgather(local_count);
  Partition p;
  p.starts.resize(counts.size() + 1, 0);
  for (size_t r = 0; r < counts.size(); ++r) p.starts[r + 1] = p.starts[r] + counts[r];
  return p;
}

}  // namespace esm::cluster
