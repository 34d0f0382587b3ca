// Ungapped evidence for a pair before it is aligned: the best ungapped segment on a diagonal
// (the filter, with the query profile's composition-bias corrected scores), and (clustering's
// identity gate) the sum of such segments on the few diagonals where the two sequences share
// the most exact 3-mers (plain substitution scores: no per-query profile to build). Both cost
// O(length), against O(qlen x tlen) for the Smith-Waterman they may save. Diagonals are
// numbered diag = i - j (query position i, target position j); scores are half bits.
#pragma once
#include <cstdint>
#include <vector>

#include "align/profile.hpp"
#include "align/scoring.hpp"

namespace esm::align {

// Best ungapped local segment score on the diagonal i - j = diag.
int ungapped_diagonal_score(const QueryProfile& q, const uint8_t* t, int tlen, int diag);

// Per query, reused across its targets (one per thread).
class SharedDiagonals {
 public:
  // Indexes the query's 3-mers of standard residues. codes must outlive the calls below.
  void set_query(const uint8_t* codes, int len, const Scoring& scoring = blosum62());
  // Sum of the best ungapped segment scores (plain substitution scores) on the `diagonals`
  // diagonals holding the most 3-mers the query and target share (ties: lower diag); 0 when
  // they share none.
  int top_diagonals_score(const uint8_t* t, int tlen, int diagonals = 3);

 private:
  static constexpr int kWords = 20 * 20 * 20;
  int segment_score(const uint8_t* t, int tlen, int diag) const;  // best ungapped segment, plain scores
  const uint8_t* q_ = nullptr;
  int qlen_ = 0;
  const Scoring* scoring_ = nullptr;
  static constexpr uint32_t kNone = UINT32_MAX;
  // Query positions of each 3-mer as chains: first_[word], then next_[position]. Only the
  // words of the current query are set (words_), so a new query costs O(its length).
  std::vector<uint32_t> first_, next_, words_;
  std::vector<uint32_t> count_;     // shared 3-mers per diagonal (index diag + tlen - 1)
  std::vector<uint32_t> touched_;   // diagonals with a count, to reset
  std::vector<uint32_t> best_;
};

}  // namespace esm::align
