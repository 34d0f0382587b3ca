#include "align/diagonal_score.hpp"

#include <algorithm>

namespace esm::align {

namespace {

// The 3-mer starting at s, or -1 when it holds X or another non-standard code.
inline int word_at(const uint8_t* s) {
  if (s[0] >= 20 || s[1] >= 20 || s[2] >= 20) return -1;
  return (s[0] * 20 + s[1]) * 20 + s[2];
}

// Best ungapped local segment on the diagonal i - j = diag; score(i, letter) scores a column.
template <typename Score>
int best_segment(int qlen, const uint8_t* t, int tlen, int diag, Score score) {
  int i = std::max(0, diag), j = i - diag;
  int best = 0, run = 0;
  for (; i < qlen && j < tlen; ++i, ++j) {
    run = std::max(0, run + score(i, t[j]));
    best = std::max(best, run);
  }
  return best;
}

}  // namespace

int ungapped_diagonal_score(const QueryProfile& q, const uint8_t* t, int tlen, int diag) {
  return best_segment(q.len, t, tlen, diag, [&](int i, uint8_t c) { return int(q.row(i)[c]); });
}

void SharedDiagonals::set_query(const uint8_t* codes, int len, const Scoring& scoring) {
  if (first_.empty()) first_.assign(kWords, kNone);
  for (uint32_t w : words_) first_[w] = kNone;  // only the previous query's words were set
  q_ = codes, qlen_ = len, scoring_ = &scoring;
  words_.clear();
  next_.assign(size_t(std::max(0, len)), kNone);
  // Chains per word in ascending position: built backwards, each position points at the next.
  for (int i = len - 3; i >= 0; --i) {
    const int w = word_at(codes + i);
    if (w < 0) continue;
    if (first_[w] == kNone) words_.push_back(uint32_t(w));
    next_[i] = first_[w];
    first_[w] = uint32_t(i);
  }
}

int SharedDiagonals::segment_score(const uint8_t* t, int tlen, int diag) const {
  return best_segment(qlen_, t, tlen, diag, [&](int i, uint8_t c) { return int(scoring_->matrix[q_[i]][c]); });
}

int SharedDiagonals::top_diagonals_score(const uint8_t* t, int tlen, int diagonals) {
  const size_t span = size_t(qlen_) + size_t(tlen);
  if (count_.size() < span) count_.resize(span, 0);
  touched_.clear();
  for (int j = 0; j + 3 <= tlen; ++j) {
    const int w = word_at(t + j);
    if (w < 0) continue;
    for (uint32_t i = first_[w]; i != kNone; i = next_[i]) {
      const uint32_t d = i + uint32_t(tlen - 1 - j);  // diag + tlen - 1
      if (count_[d]++ == 0) touched_.push_back(d);
    }
  }
  // The best `diagonals` by (count desc, diag asc), by insertion into a short sorted list.
  std::vector<uint32_t>& best = best_;
  best.clear();
  auto better = [&](uint32_t a, uint32_t b) { return count_[a] != count_[b] ? count_[a] > count_[b] : a < b; };
  for (uint32_t d : touched_) {
    if (int(best.size()) == diagonals && !better(d, best.back())) continue;
    if (int(best.size()) == diagonals) best.pop_back();
    best.insert(std::upper_bound(best.begin(), best.end(), d, better), d);
  }
  int sum = 0;
  for (uint32_t d : best) sum += segment_score(t, tlen, int(d) - (tlen - 1));
  for (uint32_t d : touched_) count_[d] = 0;
  return sum;
}

}  // namespace esm::align
