#include "pipeline/uniref50_walk.hpp"

#include <algorithm>

namespace esm::prep {

std::vector<uint64_t> read_removed_indices(const Context& ctx) {
  std::vector<uint64_t> removed;
  RecordReader in(ctx.rank_work("removed.zst"));
  std::string_view rec;
  while (in.next(rec)) removed.push_back(Unpacker(rec).u64());
  return removed;
}

Uniref50Walk::Uniref50Walk(const Context& ctx, bool with_removed)
    : in_(ctx.rank_work("u50.zst")), valid_(read_u64_file(ctx.rank_work("valid.u64"))), next_index_(ctx.base50()) {
  if (with_removed) removed_ = read_removed_indices(ctx);
  // valid.u64 may list other ranks' indices too; start at this rank's first record.
  next_valid_ = size_t(std::lower_bound(valid_.begin(), valid_.end(), next_index_) - valid_.begin());
  next_removed_ = size_t(std::lower_bound(removed_.begin(), removed_.end(), next_index_) - removed_.begin());
}

bool Uniref50Walk::next() {
  std::string_view rec;
  if (!in_.next(rec)) return false;
  index_ = next_index_++;
  status_ = ClusterStatus::Train;
  // Both lists are ascending and every index in them is reached, so one cursor each suffices.
  if (next_removed_ < removed_.size() && removed_[next_removed_] == index_) {
    status_ = ClusterStatus::Removed;
    ++next_removed_;
  }
  if (next_valid_ < valid_.size() && valid_[next_valid_] == index_) {
    status_ = ClusterStatus::Validation;
    ++next_valid_;
  }
  Unpacker u(rec);
  id_ = u.str();
  seq_ = u.str();
  return true;
}

}  // namespace esm::prep
