#include "align/profile.hpp"

#include <algorithm>
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
  std::vector<float> bias;
  if (s.composition_bias) bias = composition_bias(p.codes, s);
  int lo = 0, hi = 0;
  for (int i = 0; i < p.len; ++i) {
    const int b = bias.empty() ? 0 : int(bias[i] < 0 ? bias[i] - 0.5f : bias[i] + 0.5f);
    for (int a = 0; a < kAlphabet; ++a) {
      const int v = s.matrix[p.codes[i]][a] + b;
      p.score[size_t(i) * kAlphabet + a] = int16_t(v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  p.min_score = lo;
  p.max_score = hi;
  return p;
}

}  // namespace esm::align
