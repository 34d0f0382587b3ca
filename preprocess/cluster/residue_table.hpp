// The residues of one balancing step's sequences, by global id: what the step's gate, aligners
// and cost model ask for, several times per pair. One open-addressing array, filled once per
// step (own sequences, fetched centers and the residues that came with moved pairs), instead of
// a node-based map of the moved-in ones in front of a binary search over the fetched centers:
// those lookups were 0.26 s of CPU per 2-rank run on 200,000 proteins, ~2% of it.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace esm::cluster {

class ResidueTable {
 public:
  explicit ResidueTable(size_t expected) { rebuild(capacity_for(expected)); }

  // Adds gid's residues unless it is there; `get()` (gid's residues) runs only when it is not.
  template <typename Get>
  void add(uint64_t gid, Get&& get) {
    Slot* s = slot(gid);
    if (s->gid == gid) return;
    if (2 * (used_ + 1) > slots_.size()) {
      rebuild(2 * slots_.size());
      s = slot(gid);
    }
    *s = {gid, get()};
    ++used_;
  }
  std::string_view at(uint64_t gid) const {
    const Slot* s = const_cast<ResidueTable*>(this)->slot(gid);
    if (s->gid != gid) fail("internal: sequence ", gid, " is not in this step's residues");
    return s->residues;
  }
  size_t size() const { return used_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);  // no sequence has this id
  struct Slot {
    uint64_t gid = kEmpty;
    std::string_view residues;
  };
  std::vector<Slot> slots_;
  size_t used_ = 0;
  int shift_ = 64;

  static size_t capacity_for(size_t n) {
    size_t c = 16;
    while (c < 2 * n) c *= 2;
    return c;
  }
  // The slot holding gid, or the empty one where it would go (linear probing; the table is at
  // most half full). Fibonacci hashing: ids of one step are clustered, not random.
  Slot* slot(uint64_t gid) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = size_t((gid * 0x9E3779B97F4A7C15ull) >> shift_);; i = (i + 1) & mask)
      if (slots_[i].gid == gid || slots_[i].gid == kEmpty) return &slots_[i];
  }
  void rebuild(size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    shift_ = 64 - __builtin_ctzll(capacity);
    for (const Slot& s : old)
      if (s.gid != kEmpty) *slot(s.gid) = s;
  }
};

}  // namespace esm::cluster
