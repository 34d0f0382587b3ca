// Global sequence numbers and which rank holds which. Records are read in contiguous runs per
// rank (io::ShardReader), so a global index is the exscan of the counts, and the owner of an
// index is found by binary search in the rank start offsets.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace esm::cluster {

struct Partition {
  std::vector<uint64_t> starts;  // size P+1: rank r holds global indexes [starts[r], starts[r+1])

  int owner(uint64_t gid) const {
    return int(std::upper_bound(starts.begin(), starts.end(), gid) - starts.begin()) - 1;
  }
  uint64_t total() const { return starts.back(); }
  uint64_t first(int rank) const { return starts[size_t(rank)]; }
  uint64_t count(int rank) const { return starts[size_t(rank) + 1] - starts[size_t(rank)]; }
};

// Collective: every rank passes its own record count.
Partition make_partition(uint64_t local_count);

// A partition over one process (tests and serial tools).
inline Partition single_partition(uint64_t count) { return Partition{{0, count}}; }

}  // namespace esm::cluster
