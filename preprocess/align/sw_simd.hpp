// Fast Smith-Waterman score: Farrar's striped layout, 16-bit unsigned saturating lanes
// (AVX2: 16 lanes, SSE4.1: 8 lanes), chosen at run time with __builtin_cpu_supports. A query
// profile is built once per query and reused for every target. Scores are exactly those of
// sw_score_reference(); where a score may not fit 16 bits, 32-bit lanes (score_wide) compute it.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "align/profile.hpp"
#include "align/sw_reference.hpp"

namespace esm::align {

enum class SimdLevel { Scalar = 0, Sse41 = 1, Avx2 = 2 };

SimdLevel best_simd_level();           // what this CPU supports
const char* simd_level_name(SimdLevel level);

class StripedProfile {
 public:
  // level defaults to the best the CPU supports; a level the CPU lacks is lowered.
  StripedProfile(const QueryProfile& q, const Scoring& s, SimdLevel level = best_simd_level());
  int score(const uint8_t* target, int tlen) const;
  // The same alignment as sw_align_reference (every field but the CIGAR), given this pair's
  // exact score(): a striped fill that stores every cell's H, then the same walk back, which
  // works out the reference's directions from H where it goes (sw_simd_trace.cpp). Where 16 bits
  // could saturate, and for targets of 65,535 residues and more, align_wide runs instead; on
  // SimdLevel::Scalar and for gap costs the striped fills do not cover, the scalar
  // sw_align_scored. `dir` is caller-owned and reused; two bytes per cell filled (tlen x query
  // rounded up to the lanes; align_wide half a byte, the scalar path one).
  Alignment align_scored(const uint8_t* target, int tlen, int score, TraceBuffer& dir) const;
  // The same alignment without knowing the score: one striped fill that also keeps the column
  // holding the best score so far, so the end cell (and the score) come out of the fill
  // itself. For callers that trace back most pairs they score (clustering). Same
  // fallbacks as align_scored, saturation being decided after the fill.
  Alignment align(const uint8_t* target, int tlen, TraceBuffer& dir) const;
  // The same alignment in 32-bit lanes with a direction byte per cell (sw_wide_trace.cpp): for
  // pairs whose score may not fit 16 bits. align() and align_scored() call it where needed;
  // public so that tests can run it on every pair. Throws where simd_fill_unsupported().
  Alignment align_wide(const uint8_t* target, int tlen, TraceBuffer& dir) const;
  // The exact score in 32-bit lanes (the score kernel of sw_simd.cpp on Sse41x32 / Avx2x32):
  // what score() runs where 16 bits may not suffice; public so that tests can run it on every
  // pair. Throws on SimdLevel::Scalar.
  int score_wide(const uint8_t* target, int tlen) const;
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
  mutable std::vector<uint16_t> trace_work_;              // the traceback fill's columns (grown on first use)
  mutable std::vector<uint32_t> row_offset_;              // query row i's place in a striped column
  mutable std::vector<int> walk_e_, walk_f_;              // the walk's E row and F column

  // No striped traceback fill (16- or 32-bit) can run: no SIMD, or gap costs / a bias the
  // fills' exactness arguments do not cover. The scalar fill runs instead.
  bool simd_fill_unsupported() const;
  // Whether 16-bit lanes could saturate on this pair, from bounds on its score: each query
  // position, and each target position, contributes at most its best profile value (gaps only
  // subtract). False for all but very long, self-similar pairs (~12,000 residues and up with
  // BLOSUM62); where true, the 32-bit kernels (score_wide, align_wide) run at once instead of
  // after a 16-bit pass that then proves useless (for a 35,213 x 34,350 titin pair the 16-bit
  // traceback fill, storing 2.4 GB of H, took 3.5 of 11 s).
  bool may_saturate(const uint8_t* target, int tlen) const;
  int64_t query_bound_ = 0;                  // sum over query positions of max(0, best profile value)
  std::array<int16_t, kAlphabet> letter_max_{};  // per target letter, max(0, its best profile value)
  // The striped fill of every cell's H into buf (sw_simd_trace.cpp); returns the matrix and sets
  // the best score and its end cell.
  const uint16_t* trace_fill(const uint8_t* target, int tlen, TraceBuffer& buf, int& best, int& bi,
                             int& bj) const;
  // The walk back from the end cell over that matrix.
  void trace_walk(const uint16_t* h, const uint8_t* target, int bi, int bj, Alignment& out) const;
  // align_wide's and score_wide's 32-bit striped profile and work columns, built on first use
  // (only the rare long pairs need them).
  void build_wide() const;
  // Bytes of align_wide's direction matrix for a target of tlen (half a byte per cell).
  size_t wide_traceback_bytes(int tlen) const {
    return size_t(tlen) * size_t((wide_seg_len_ + 1) / 2) * size_t(wide_lanes_);
  }
  mutable int wide_lanes_ = 0, wide_seg_len_ = 0;
  mutable std::vector<int32_t> wide_profile_;  // [kAlphabet][seg_len][lanes], 32-byte aligned slice
  mutable std::vector<int32_t> wide_work_;
  // 32-byte aligned starts of those two (the vectors' data rounded up).
  static int32_t* aligned32(std::vector<int32_t>& v) {
    return v.data() + (32 - (reinterpret_cast<uintptr_t>(v.data()) & 31)) / 4 % 8;
  }
  int32_t* wide_profile_aligned() const { return aligned32(wide_profile_); }
  int32_t* wide_work_aligned() const { return aligned32(wide_work_); }
};

}  // namespace esm::align
