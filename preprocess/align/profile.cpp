#include "align/profile.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace esm::align {

QueryProfile QueryProfile::build(std::string_view residues, const Scoring& s) {
  return build_codes(encode(residues), s);
}

QueryProfile QueryProfile::build_codes(std::vector<uint8_t> codes, const Scoring& s) {
  QueryProfile p;
  p.codes = std::move(codes);
  p.len = int(p.codes.size());
  p.score.resize(size_t(p.len) * kAlphabet);
  std::vector<int> bias;
  if (s.composition_bias) bias = composition_bias_rounded(p.codes, s);
  // Each row is the matrix row of its letter shifted by the position's bias, so the extremes
  // come from the rows' own extremes.
  std::array<int, kAlphabet> row_lo, row_hi;
  for (int c = 0; c < kAlphabet; ++c) {
    row_lo[c] = *std::min_element(s.matrix[c].begin(), s.matrix[c].end());
    row_hi[c] = *std::max_element(s.matrix[c].begin(), s.matrix[c].end());
  }
  int lo = 0, hi = 0;
  for (int i = 0; i < p.len; ++i) {
    const int b = bias.empty() ? 0 : bias[i];
    const uint8_t c = p.codes[i];
    int16_t* out = p.score.data() + size_t(i) * kAlphabet;
    for (int a = 0; a < kAlphabet; ++a) out[a] = int16_t(s.matrix[c][a] + b);
    lo = std::min(lo, row_lo[c] + b);
    hi = std::max(hi, row_hi[c] + b);
  }
  p.min_score = lo;
  p.max_score = hi;
  return p;
}

}  // namespace esm::align
