// The validation (target) set prepared once per rank: residue codes, lengths, and a spaced-seed
// k-mer index on a reduced alphabet (CSR: bucket offsets + (target, position) entries).
//
// Why a reduced alphabet and spaced seeds: pairs at >= 50% identity over >= 80% of both
// sequences share many positions in conservative-substitution groups; a weight-5/6 seed on
// Murphy's 10-letter alphabet hits them several times per diagonal while random pairs rarely
// hit twice on one diagonal. Memory: 8 bytes per indexed residue plus 4 bytes per bucket
// (10^w buckets), plus the residues themselves (1 byte each).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace esm::filter {

// Murphy et al. (2000) 10-letter groups: LVIM C A G ST P FYW EDNQ KR H; X has no group.
inline constexpr int kReducedAlphabet = 10;
uint8_t reduced_letter(uint8_t code);  // 255 for X

struct SeedPattern {
  std::string mask;  // '1' = a position that counts, '0' = don't care; e.g. "1101011"
  int weight() const;
  int span() const { return int(mask.size()); }
};

// The default: weight 5 while the targets are small enough that buckets stay short, else 6.
SeedPattern default_seed(uint64_t target_residues);

struct SeedEntry {
  uint32_t target;
  uint32_t pos;  // seed start in the target
};

class TargetIndex {
 public:
  TargetIndex(const std::vector<std::string>& target_residues, SeedPattern seed);

  size_t size() const { return lengths_.size(); }
  uint64_t residues() const { return residues_; }
  int length(size_t t) const { return int(lengths_[t]); }
  const uint8_t* codes(size_t t) const { return codes_.data() + starts_[t]; }
  const SeedPattern& seed() const { return seed_; }

  // Seed key at position p of a code string, or -1 when the window holds an X / runs off.
  int64_t key_at(const uint8_t* codes, int len, int p) const;
  const SeedEntry* bucket_begin(int64_t key) const { return entries_.data() + offsets_[key]; }
  const SeedEntry* bucket_end(int64_t key) const { return entries_.data() + offsets_[key + 1]; }
  uint64_t index_bytes() const;

 private:
  SeedPattern seed_;
  std::vector<int> offsets_in_seed_;  // positions of the '1's
  std::vector<uint8_t> codes_;        // all targets, concatenated (alignment codes)
  std::vector<uint64_t> starts_;
  std::vector<uint32_t> lengths_;
  std::vector<uint32_t> offsets_;     // CSR bucket offsets, 10^w + 1
  std::vector<SeedEntry> entries_;
  uint64_t residues_ = 0;
};

}  // namespace esm::filter
