// Fast Smith-Waterman score: Farrar's striped layout, 16-bit unsigned saturating lanes
// (AVX2: 16 lanes, SSE4.1: 8 lanes), chosen at run time with __builtin_cpu_supports. A query
// profile is built once per query and reused for every target. Scores are exactly those of
// sw_score_reference(); when a score would not fit 16 bits the reference computes it instead.
#pragma once
#include <cstdint>
#include <vector>

#include "align/profile.hpp"

namespace esm::align {

enum class SimdLevel { Scalar = 0, Sse41 = 1, Avx2 = 2 };

SimdLevel best_simd_level();           // what this CPU supports
const char* simd_level_name(SimdLevel level);

class StripedProfile {
 public:
  // level defaults to the best the CPU supports; a level the CPU lacks is lowered.
  StripedProfile(const QueryProfile& q, const Scoring& s, SimdLevel level = best_simd_level());
  int score(const uint8_t* target, int tlen) const;
  SimdLevel level() const { return level_; }

 private:
  const QueryProfile* query_;
  const Scoring* scoring_;
  SimdLevel level_;
  int lanes_ = 1, seg_len_ = 0;
  uint16_t bias_ = 0;
  std::vector<uint16_t, std::allocator<uint16_t>> data_;  // [kAlphabet][seg_len][lanes], 32-byte aligned slice
  size_t offset_ = 0;                                     // first aligned element in data_
  mutable std::vector<uint16_t> work_;                    // H, H', E columns (per instance: one thread)
};

}  // namespace esm::align
