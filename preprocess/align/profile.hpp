// A query prepared for alignment: residue codes and the position-specific score of every
// query position against every target letter (BLOSUM62 plus MMseqs2's composition-bias
// correction, rounded half away from zero as MMseqs2 does when it builds its profile).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "align/scoring.hpp"

namespace esm::align {

struct QueryProfile {
  std::vector<uint8_t> codes;
  std::vector<int16_t> score;  // [len][kAlphabet]
  int len = 0;
  int min_score = 0, max_score = 0;  // over all entries (the SIMD path biases by -min_score)

  static QueryProfile build(std::string_view residues, const Scoring& s);
  static QueryProfile build_codes(std::vector<uint8_t> codes, const Scoring& s);
  const int16_t* row(int i) const { return score.data() + size_t(i) * kAlphabet; }
};

}  // namespace esm::align
