// Distributed sort of records by a (major, minor) key, for records whose final position is
// known from the key alone. Each rank's input is a record file whose records begin with the
// two keys as varints (Packer::u64); each rank ends with a record file holding every record
// whose major key falls in its range, sorted. Ranges are cut at major-key boundaries, so all
// records of one major key (one cluster) end on one rank.
//
// Memory per rank stays under about `memory_limit`: records are exchanged in rounds of at most
// memory_limit / (4 P) bytes sent per rank, and a rank whose received records occupy more than
// memory_limit / 2 (allocated bytes) sorts them and spills a zstd run to disk, merged at the end.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace esm::prep {

// Splitters from a histogram of bytes over equal-width major-key buckets (bucket b covers
// majors [b*width, (b+1)*width)); local histograms are summed over ranks. Returns P+1 bounds:
// rank r receives majors in [bounds[r], bounds[r+1]).
std::vector<uint64_t> choose_splitters(const std::vector<uint64_t>& local_bucket_bytes, uint64_t width,
                                       uint64_t major_end);

struct SortStats {
  uint64_t records = 0;      // records this rank holds after the sort
  uint64_t bytes = 0;        // their payload bytes
  uint64_t runs_spilled = 0; // zstd runs written because of the memory limit
  uint64_t rounds = 0;       // exchange rounds
};

SortStats sample_sort(const std::string& input, const std::string& output, const std::vector<uint64_t>& bounds,
                      uint64_t memory_limit, const std::string& spill_prefix);

// Parses the two leading keys of a sort record.
void sort_keys(const std::string_view record, uint64_t& major, uint64_t& minor);

}  // namespace esm::prep
