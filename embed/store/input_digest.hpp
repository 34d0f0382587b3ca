// The input's identity for --resume: a digest of every (ID, residues) record in input order,
// computed while each rank reads its own shard, with no rank ever holding another rank's records.
//
// A streaming sha256 over the whole input cannot be split over ranks, so each record gets its own
// sha256 h_i and the ranks combine them as a polynomial hash: for four lanes k,
//   S_k = sum_i h_i[k] * r_k^i  (mod 2^61 - 1),  i = the record's global index,
// which depends on the order of the records but not on where the shard boundaries fall. The
// stored value is the sha256 (hex) of N and the four S_k.
#pragma once
#include <mpi.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace esm::store {

class InputDigest {
 public:
  InputDigest();
  // The next record of this rank's shard (records arrive in input order).
  void add(std::string_view id, std::string_view residues);
  // Collective: combines every rank's records; ranks hold contiguous runs in rank order.
  std::string finish(MPI_Comm comm);

 private:
  uint64_t count_ = 0;
  std::array<uint64_t, 4> sum_{}, power_{};
};

}  // namespace esm::store
