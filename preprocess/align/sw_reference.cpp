#include "align/sw_reference.hpp"

#include <algorithm>
#include <vector>

#include "align/traceback_walk.hpp"
#include "core/error.hpp"

namespace esm::align {

int sw_score_reference(const QueryProfile& q, const uint8_t* t, int tlen, const Scoring& s) {
  const int go = s.gap_open, ge = s.gap_extend;
  std::vector<int> H(tlen + 1, 0), F(tlen + 1, 0);  // F: gap consuming query residues (vertical)
  int best = 0;
  for (int i = 0; i < q.len; ++i) {
    const int16_t* row = q.row(i);
    int diag = 0, e = 0, left = 0;  // H[i-1][j-1], E[i][j], H[i][j-1]
    for (int j = 1; j <= tlen; ++j) {
      e = std::max(left - go, e - ge);
      F[j] = std::max(H[j] - go, F[j] - ge);
      int h = std::max({0, diag + row[t[j - 1]], e, F[j]});
      diag = H[j];
      H[j] = h;
      left = h;
      best = std::max(best, h);
    }
  }
  return best;
}

using namespace detail;  // the direction bits and the walk shared with the SIMD fill

namespace {

// Row-major direction bytes: row i (query position) has `stride` bytes, one per target position.
struct RowMajorDir {
  const uint8_t* dir;
  int stride;
  uint8_t operator()(int i, int j) const { return dir[size_t(i) * stride + j]; }
};
}  // namespace

namespace {

// The scalar fill with a direction byte per cell, row by row (row-major, `tlen` bytes a row).
// stop_at > 0: the caller's exact best score; the fill stops at the first cell reaching it,
// which is the reference's end cell (no cell exceeds the best), so later rows are never
// computed. stop_at <= 0: every cell, keeping the first maximum in row-major order.
void fill_directions(const QueryProfile& q, const uint8_t* t, int tlen, const Scoring& s, uint8_t* dir,
                     int stop_at, int& best, int& bi, int& bj) {
  const int go = s.gap_open, ge = s.gap_extend;
  std::vector<int> H(tlen + 1, 0), F(tlen + 1, 0);
  best = 0, bi = -1, bj = -1;
  for (int i = 0; i < q.len; ++i) {
    const int16_t* row = q.row(i);
    uint8_t* d = dir + size_t(i) * tlen;
    int diag = 0, e = 0, left = 0;
    for (int j = 1; j <= tlen; ++j) {
      uint8_t bits = 0;
      const int e_open = left - go, e_ext = e - ge;
      if (e_ext >= e_open) bits |= kEExt;
      e = std::max(e_open, e_ext);
      const int f_open = H[j] - go, f_ext = F[j] - ge;
      if (f_ext >= f_open) bits |= kFExt;
      F[j] = std::max(f_open, f_ext);
      const int m = diag + row[t[j - 1]];
      int h = 0;
      uint8_t src = kStop;
      if (m > h) h = m, src = kDiag;
      if (e > h) h = e, src = kFromE;
      if (F[j] > h) h = F[j], src = kFromF;
      d[j - 1] = bits | src;
      diag = H[j];
      H[j] = h;
      left = h;
      if (h > best) {
        best = h, bi = i, bj = j - 1;
        if (h == stop_at) return;
      }
    }
  }
}

}  // namespace

Alignment sw_align_reference(const QueryProfile& q, const uint8_t* t, int tlen, const Scoring& s,
                             bool want_cigar) {
  Alignment out;
  if (q.len == 0 || tlen == 0) return out;
  std::vector<uint8_t> dir(size_t(q.len) * tlen);
  int best, bi, bj;
  fill_directions(q, t, tlen, s, dir.data(), 0, best, bi, bj);
  out.score = best;
  if (best <= 0) return out;
  walk_back(q, t, DirBytes<RowMajorDir>{RowMajorDir{dir.data(), tlen}}, bi, bj, want_cigar, out);
  return out;
}

Alignment sw_align_scored(const QueryProfile& q, const uint8_t* t, int tlen, const Scoring& s,
                          int best_score, TraceBuffer& dir) {
  Alignment out;
  if (q.len == 0 || tlen == 0 || best_score <= 0) return out;
  // Only the rows up to the end cell are filled: no zeroing, and the buffer is reused.
  uint8_t* const d = dir.reserve(size_t(q.len) * tlen);
  int best, bi, bj;
  fill_directions(q, t, tlen, s, d, best_score, best, bi, bj);
  if (best != best_score) fail("sw_align_scored: score ", best_score, " not reached (not the exact best score)");
  out.score = best_score;
  walk_back(q, t, DirBytes<RowMajorDir>{RowMajorDir{d, tlen}}, bi, bj, false, out);
  dir.release_if_large();
  return out;
}

Alignment sw_align_scalar(const QueryProfile& q, const uint8_t* t, int tlen, const Scoring& s, TraceBuffer& dir) {
  Alignment out;
  if (q.len == 0 || tlen == 0) return out;
  uint8_t* const d = dir.reserve(size_t(q.len) * tlen);
  int best, bi, bj;
  fill_directions(q, t, tlen, s, d, 0, best, bi, bj);
  out.score = best;
  if (best > 0) walk_back(q, t, DirBytes<RowMajorDir>{RowMajorDir{d, tlen}}, bi, bj, false, out);
  dir.release_if_large();
  return out;
}

}  // namespace esm::align
