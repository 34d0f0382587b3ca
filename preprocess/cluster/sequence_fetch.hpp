// Residues of sequences held by other ranks, fetched once per job step. A rank aligns the pairs
// whose member it holds, so it needs the centers' residues: it asks each owner for exactly the
// distinct centers it needs (one all-to-all for the requests, one for the replies).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/partition.hpp"

namespace esm::cluster {

class SequenceCache {
 public:
  // Residues of `gid`; the gid must have been fetched (throws otherwise: a logic error).
  std::string_view get(uint64_t gid) const;
  size_t size() const { return gids_.size(); }
  size_t residues() const { return residues_.size(); }

 private:
  friend SequenceCache fetch_sequences(std::vector<uint64_t>, const Partition&, const std::vector<std::string_view>&);
  std::vector<uint64_t> gids_;     // sorted
  std::vector<uint64_t> offsets_;  // size gids_ + 1
  std::string residues_;
};

// Collective. `wanted`: global indexes under `part` (any order, repeats allowed); `local`: this
// rank's sequences under `part`, in order.
SequenceCache fetch_sequences(std::vector<uint64_t> wanted, const Partition& part,
                              const std::vector<std::string_view>& local);

}  // namespace esm::cluster
