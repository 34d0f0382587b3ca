#include "filter/target_index.hpp"

#include <array>

#include "align/scoring.hpp"
#include "core/error.hpp"

namespace esm::filter {

namespace {
struct ReducedTable {
  std::array<uint8_t, align::kAlphabet> group;
  ReducedTable() {
    const char* groups[kReducedAlphabet] = {"LVIM", "C", "A", "G", "ST", "P", "FYW", "EDNQ", "KR", "H"};
    group.fill(255);
    for (int g = 0; g < kReducedAlphabet; ++g)
      for (const char* c = groups[g]; *c; ++c) group[align::encode_letter(*c)] = uint8_t(g);
  }
};
const ReducedTable& reduced_table() {
  static const ReducedTable t;
  return t;
}
}  // namespace

uint8_t reduced_letter(uint8_t code) { return code < align::kAlphabet ? reduced_table().group[code] : 255; }

int SeedPattern::weight() const {
  int w = 0;
  for (char c : mask) w += c == '1';
  return w;
}

SeedPattern default_seed(uint64_t target_residues) {
  // Average bucket length stays under ~100 entries either way (10^5 or 10^6 buckets).
  if (target_residues < 10'000'000) return {"1101011"};
  return {"11011011"};
}

TargetIndex::TargetIndex(const std::vector<std::string>& seqs, SeedPattern seed) : seed_(std::move(seed)) {
  if (seed_.weight() < 1 || seed_.weight() > 8 || seed_.mask.front() != '1' || seed_.mask.back() != '1')
    fail("seed pattern '", seed_.mask, "' must start and end with 1 and have weight 1..8");
  for (int k = 0; k < seed_.span(); ++k)
    if (seed_.mask[k] == '1') offsets_in_seed_.push_back(k);
  const size_t n = seqs.size();
  if (n > UINT32_MAX) fail("too many target sequences for the index: ", n);
  starts_.resize(n);
  lengths_.resize(n);
  for (size_t t = 0; t < n; ++t) {
    starts_[t] = codes_.size();
    lengths_[t] = uint32_t(seqs[t].size());
    for (char c : seqs[t]) codes_.push_back(align::encode_letter(c));
  }
  residues_ = codes_.size();
  uint64_t buckets = 1;
  for (int k = 0; k < seed_.weight(); ++k) buckets *= kReducedAlphabet;
  // Two passes: count, then place (entries of a bucket end up in (target, pos) order).
  offsets_.assign(buckets + 1, 0);
  for (size_t t = 0; t < n; ++t)
    for (int p = 0; p + seed_.span() <= int(lengths_[t]); ++p) {
      const int64_t key = key_at(codes(t), int(lengths_[t]), p);
      if (key >= 0) ++offsets_[key + 1];
    }
  for (uint64_t b = 0; b < buckets; ++b) offsets_[b + 1] += offsets_[b];
  entries_.resize(offsets_[buckets]);
  std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (size_t t = 0; t < n; ++t)
    for (int p = 0; p + seed_.span() <= int(lengths_[t]); ++p) {
      const int64_t key = key_at(codes(t), int(lengths_[t]), p);
      if (key >= 0) entries_[fill[key]++] = SeedEntry{uint32_t(t), uint32_t(p)};
    }
}

int64_t TargetIndex::key_at(const uint8_t* c, int len, int p) const {
  if (p + seed_.span() > len) return -1;
  const auto& group = reduced_table().group;
  int64_t key = 0;
  for (int off : offsets_in_seed_) {
    const uint8_t g = group[c[p + off]];
    if (g == 255) return -1;
    key = key * kReducedAlphabet + g;
  }
  return key;
}

uint64_t TargetIndex::index_bytes() const {
  return offsets_.size() * sizeof(uint32_t) + entries_.size() * sizeof(SeedEntry) + codes_.size() +
         starts_.size() * (sizeof(uint64_t) + sizeof(uint32_t));
}

}  // namespace esm::filter
