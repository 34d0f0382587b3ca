// One pass over this rank's kept UniRef50 records (the read stage's u50.zst) in input order, each
// with its global index and its status after the validation choice (valid.u64) and, once the
// filter stage has run, the identity filter (removed.zst). Every stage from the filter on walks
// the representatives this way, so the status of a record is decided in one place.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"

namespace esm::prep {

// Global UniRef50 indices of this rank's records the filter removed (removed.zst), ascending.
std::vector<uint64_t> read_removed_indices(const Context& ctx);

class Uniref50Walk {
 public:
  // with_removed: read removed.zst so the records the filter removed show as Removed; false in
  // the filter stage itself (which writes that file) or where only Validation matters.
  Uniref50Walk(const Context& ctx, bool with_removed);
  Uniref50Walk(const Uniref50Walk&) = delete;
  Uniref50Walk& operator=(const Uniref50Walk&) = delete;

  // Moves to the next record; false at the end. The views stay valid until the next call.
  bool next();
  uint64_t index() const { return index_; }
  ClusterStatus status() const { return status_; }  // Train, Validation or Removed
  std::string_view id() const { return id_; }
  std::string_view seq() const { return seq_; }

 private:
  RecordReader in_;
  std::vector<uint64_t> valid_, removed_;
  size_t next_valid_ = 0, next_removed_ = 0;
  uint64_t next_index_ = 0, index_ = 0;
  ClusterStatus status_ = ClusterStatus::Train;
  std::string_view id_, seq_;
};

}  // namespace esm::prep
