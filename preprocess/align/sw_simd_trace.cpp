// The striped (Farrar) Smith-Waterman fill for the exact traceback: it stores every cell's H
// (16-bit, striped) and nothing else; the walk back (traceback_walk.hpp) works out, only at the
// cells it visits, the directions the scalar fill of sw_align_reference stores per cell (H's
// source with ties diag > E > F, E/F "extended" with extend preferred on ties), so it gives
// exactly the reference's alignment. Per cell the fill is the score kernel's work plus its
// stores: no direction bits, no second pass (sw_simd.cpp), about 3x fewer vector operations
// than a fill that computes the bits for every cell.
//
// Fill, per target column j, in striped query order (i = lane * seg_len + segment): the score
// kernel's pass (H from the diagonal, the vertical gaps within each lane, E from the previous
// column's final H), then F entering each lane from the lanes above by a cross-lane max-scan.
// That F's correction of H (Farrar's: H = max(H, F), F losing ge per segment) is not a second
// pass over the column: the next column applies it to each value as it reads it, and stores the
// corrected value back. Farrar's lazy loop stops where the F no longer raises any lane, but on
// the similar proteins clustering aligns (gap extend 1: an F decays slowly) it ran in 96% of the
// columns, over 94% of their segments; folded into the next pass it costs two operations and a
// store per segment, and the fill got 12-15% faster on metastudent (clustering's alignments
// 8.1 -> 6.9 s on 200,000 proteins). The end cell is the first maximum in row-major order
// (smallest i, then smallest j): a column whose maximum beats the best so far becomes the kept
// column (its row found once, at the end, by scanning it); one that ties the best is scanned and
// kept only if its row is smaller. Padding rows (i >= qlen) never hold a maximum that reaches the
// best so far: their profile entries are 0, below every real entry by bias >= 1, so each of their
// values is a real value of this or an earlier column minus bias, go or ge.
//
// Walk, at cell (i, j), from the stored H (StripedH below):
//  - H's source: h = H(i, j); 0 -> stop; h == max(0, H(i-1, j-1) + score) -> diag; h == E(i, j)
//    -> E; else F.
//  - E(i, .) along row i: E(i, 0) = 0, E(i, j) = max(E(i, j-1) - ge, H(i, j-1) - go), clamped at
//    0; "extends" at (i, j): E(i, j-1) - ge >= H(i, j-1) - go (clamped, with E = H = 0 left of
//    column 0). F(., j) down column j the same way. A row (or column) is worked out once per gap
//    the path opens in it, O(tlen) (or O(qlen)), against O(qlen * tlen) for the fill.
//
// Why these are the reference's directions although lanes are unsigned 16-bit saturating (values
// below 0 clamp to 0):
//  - Clamping: every stored value is max(true value, 0), because max and "subtract c >= 0,
//    clamp at 0" commute with max(., 0); nothing saturates at the top (the caller checks
//    score + max profile value + bias < 65535, StripedProfile::score's rule).
//  - H's source: the reference takes the first of (diag, E, F) strictly above the running max
//    starting at 0. With h = max(0, m, e, f): h == 0 -> stop; else the first of m, e, f equal
//    to h. A clamped value equals h > 0 only if its true value does, so this is exact everywhere.
//  - Extend bits (ext >= open): true ext >= open implies clamped ext >= clamped open. They can
//    differ only if both are <= 0, i.e. where that cell's E (or F) is <= 0. The walk reads an
//    extend bit only in a cell where it is inside a gap whose value is > 0 (a gap on the path
//    carries a positive score: it was chosen over 0, or extends into such a gap). Exact there.
//  - The cross-lane F: with gap_open >= gap_extend, max(H, F) with F losing ge per segment is
//    the whole correction (a raised H's own F, H - go, is below the carried F - ge). Applied
//    late, it still precedes every use of the column: the next column's diagonal and E, the
//    walk (the matrix holds corrected values), and the end cell (a cell it raises stays below
//    the column maximum, F being some H of the column minus go). Gap costs outside
//    gap_open >= gap_extend >= 1 take the scalar path.
#include <algorithm>
#include <climits>
#include <cstring>

#include "align/simd_vec.hpp"
#include "align/sw_simd.hpp"
#include "align/traceback_walk.hpp"
#include "core/error.hpp"

namespace esm::align {

using namespace detail;

namespace {

// A matrix above this size is written with non-temporal stores: it cannot stay in the caches
// anyway, and streaming skips reading each line in before overwriting it. Each column is then
// computed in a two-column scratch and copied out once finished (the lazy correction rewrites
// it). Pairs of more than 8e6 cells on metastudent: fill 0.85 -> 0.73 s; below ~8 MiB the walk
// reads the matrix back from the caches, so smaller ones keep plain stores.
constexpr size_t kStreamBytes = size_t(8) << 20;

// `work`: 4 * seg_len vectors (E of the column, a zero column, kStream's two columns).
// `hmat`: tlen * seg_len vectors, H of column j at j * seg_len. Returns the best score and its
// cell (bi, bj; -1 when the best is 0).
#define ESM_TRACE_KERNEL(NAME, V, ATTR)                                                           \
  template <bool kStream>                                                                          \
  ATTR int NAME(const uint16_t* prof, int seg_len, const uint8_t* t, int tlen, uint16_t bias,      \
                int go, int ge, uint16_t* work, uint16_t* hmat, int& bi, int& bj) {               \
    using T = V::T;                                                                               \
    T* earr = reinterpret_cast<T*>(work);                                                         \
    T* scratch = earr + 2 * seg_len; /* kStream: two columns, the current and the previous */    \
    const T* hprev = earr + seg_len; /* the zero column left of column 0 */                      \
    T* hout = reinterpret_cast<T*>(hmat);                                                         \
    T* hcur = kStream ? scratch : hout;                                                           \
    const T* kept = nullptr; /* the column holding the best score so far */                       \
    int kept_row = -1;       /* its first row holding it; -1: not scanned yet */                  \
    int best = 0;                                                                                 \
    bi = bj = -1;                                                                                 \
    const T zero = V::zero();                                                                     \
    for (int s = 0; s < 2 * seg_len; ++s) V::store(earr + s, zero);                               \
    const T vgo = V::set1(uint16_t(go)), vge = V::set1(uint16_t(ge)), vbias = V::set1(bias);      \
    const T* P = reinterpret_cast<const T*>(prof);                                                \
    T vcorr = zero; /* the previous column's F from the lanes above, applied in this column */     \
    for (int j = 0; j < tlen; ++j, hout += seg_len) {                                             \
      const T* pj = P + size_t(t[j]) * seg_len;                                                   \
      T vf = zero, colmax = zero;                                                                 \
      /* Where the previous column's corrected H goes (column 0: the zero column, unchanged). */ \
      T* hfix = kStream && j > 0 ? hout - seg_len : const_cast<T*>(hprev);                        \
      T vh = V::shift_up(V::max(V::load(hprev + seg_len - 1),                                     \
                                V::subs(vcorr, V::set1(clamp16((seg_len - 1) * ge)))));           \
      for (int s = 0; s < seg_len; ++s) {                                                         \
        /* The previous column's final H: its correction, applied as it is read (see above).   \
           E from it; F's chain is two operations: F - go <= F - ge, so F(s+1) = max(F(s) - ge, \
           H0 - go) with H0 = H without F (go >= ge, and subtracting commutes with max). */      \
        const T hp = V::max(V::load(hprev + s), vcorr);                                           \
        vcorr = V::subs(vcorr, vge);                                                              \
        if (kStream) V::stream(hfix + s, hp);                                                     \
        else V::store(hfix + s, hp);                                                              \
        const T ve = V::max(V::subs(V::load(earr + s), vge), V::subs(hp, vgo));                   \
        V::store(earr + s, ve);                                                                   \
        const T h0 = V::max(V::subs(V::adds(vh, V::load(pj + s)), vbias), ve);                    \
        const T h = V::max(h0, vf);                                                               \
        colmax = V::max(colmax, h);                                                               \
        V::store(hcur + s, h);                                                                    \
        vf = V::max(V::subs(vf, vge), V::subs(h0, vgo));                                          \
        vh = hp;                                                                                  \
      }                                                                                           \
      /* F entering each lane from the lanes above, for the next column to apply. The column's \
         maximum needs no correction: an F is some H of this column minus go >= 1, below it. */ \
      vcorr = V::carry_scan(V::shift_up(vf), seg_len * ge);                                       \
      /* The end cell (see above); a cell equal to the best is never one the correction        \
         raises, so the uncorrected column serves. */                                             \
      if (V::any_gt(colmax, V::set1(uint16_t(best)))) {                                           \
        best = V::hmax(colmax), kept = hout, kept_row = -1, bj = j;                               \
      } else if (best > 0 && V::any_gt(colmax, V::set1(uint16_t(best - 1)))) {                    \
        if (kept_row < 0) kept_row = V::first_row(kept, seg_len, best);                           \
        const int row = V::first_row(hcur, seg_len, best);                                        \
        if (row < kept_row) kept = hout, kept_row = row, bj = j;                                  \
      }                                                                                           \
      hprev = hcur;                                                                               \
      hcur = kStream ? scratch + (j + 1) % 2 * seg_len : hout + seg_len;                          \
    }                                                                                             \
    if (tlen > 0) { /* the last column's correction */                                           \
      T* hfix = kStream ? hout - seg_len : const_cast<T*>(hprev);                                 \
      for (int s = 0; s < seg_len; ++s, vcorr = V::subs(vcorr, vge)) {                            \
        const T h = V::max(V::load(hprev + s), vcorr);                                            \
        if (kStream) V::stream(hfix + s, h);                                                      \
        else V::store(hfix + s, h);                                                               \
      }                                                                                           \
    }                                                                                             \
    if (kStream) _mm_sfence();                                                                    \
    if (best > 0) bi = kept_row >= 0 ? kept_row : V::first_row(kept, seg_len, best);    \
    return best;                                                                                  \
  }

ESM_TRACE_KERNEL(trace_sse41, Sse41, ESM_SSE41)
ESM_TRACE_KERNEL(trace_avx2, Avx2, ESM_AVX2)

// The walk's accessor over the striped H matrix: the directions of the cells it visits, worked
// out from H as the header says. `offset[i]`: row i's place in a column (no division per cell);
// `e` and `f`: the caller's scratch for one row's E and one column's F.
//
// E along a row is the costly part (a strided read per column), so it starts at a column w0
// close to the cell instead of at column 0 (E(i, x) = max over c < x of H(i, c) - go - (x-1-c) ge):
// the terms left of w0 are at most best - go - (x - w0) ge, best being the alignment's score
// (no H exceeds it). At a cell with value h whose source is not the diagonal, w0 = j - K with
// K > (best - go - h) / ge makes "E == h" exact: a window value equal to h is exact (E <= h),
// and the terms left out stay below h. The gap the walk then follows keeps E(i, x) = h +
// (j - x) ge <= best - go, so it ends inside the window, and every extend test on it (window E
// against H(i, x-1) - go, which is the gap's own value) decides as the exact E would.
class StripedH {
 public:
  StripedH(const uint16_t* h, size_t column, const uint32_t* offset, const QueryProfile& q, const uint8_t* t, int best,
           int go, int ge, std::vector<int>& e, std::vector<int>& f)
      : h_(h), column_(column), offset_(offset), q_(q), t_(t), best_(best), go_(go), ge_(ge), e_(e), f_(f) {}

  uint8_t src(int i, int j) const {
    const int h = H(i, j);
    if (h == 0) return kStop;
    const int m = std::max(0, H(i - 1, j - 1) + q_.row(i)[t_[j]]);
    if (h == m) return kDiag;
    const int reach = best_ - go_ - h < 0 ? 0 : (best_ - go_ - h) / ge_ + 1;
    return h == E(i, j, std::max(0, j - reach)) ? kFromE : kFromF;
  }
  // Asked only inside a gap that src() found in this row, so the row's window is in place.
  bool e_extends(int i, int j) const {
    return sub(E(i, j - 1, e_row_ == i ? e_from_ : 0), ge_) >= sub(H(i, j - 1), go_);
  }
  bool f_extends(int i, int j) const { return sub(F(i - 1, j), ge_) >= sub(H(i - 1, j), go_); }

 private:
  const uint16_t* h_;
  size_t column_;  // values per column
  const uint32_t* offset_;
  const QueryProfile& q_;
  const uint8_t* t_;
  int best_, go_, ge_;
  mutable int e_row_ = -1, e_from_ = 0, f_col_ = -1;  // which row (from which column) and column e_, f_ hold
  std::vector<int>& e_;  // E(e_row_, x) over the window, at e_[x - e_from_]
  std::vector<int>& f_;  // F(i - 1, f_col_) at f_[i]

  static int sub(int v, int c) { return std::max(0, v - c); }
  int H(int i, int j) const { return i < 0 || j < 0 ? 0 : h_[size_t(j) * column_ + offset_[i]]; }
  // E(i, x) over the window from column `from` (0 at from; E left of column 0 is 0).
  int E(int i, int x, int from) const {
    if (x < 0) return 0;
    if (e_row_ != i || e_from_ > from || e_from_ + int(e_.size()) <= x) {
      e_.assign(size_t(x - from) + 1, 0);
      const uint16_t* row = h_ + offset_[i];
      for (int c = from + 1; c <= x; ++c)
        e_[c - from] = std::max(sub(e_[c - 1 - from], ge_), sub(row[size_t(c - 1) * column_], go_));
      e_row_ = i, e_from_ = from;
    }
    return e_[x - e_from_];
  }
  int F(int i, int j) const {
    if (f_col_ != j || int(f_.size()) < i + 2) {
      f_.assign(size_t(i) + 2, 0);
      const uint16_t* col = h_ + size_t(j) * column_;
      for (int r = 1; r <= i; ++r) f_[r + 1] = std::max(sub(f_[r], ge_), sub(col[offset_[r - 1]], go_));
      f_col_ = j;
    }
    return f_[i + 1];
  }
};

}  // namespace

bool StripedProfile::simd_fill_unsupported() const {
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  // bias_ >= 1 keeps padding rows below the real maximum (the end-cell argument above).
  return level_ == SimdLevel::Scalar || ge < 1 || go < ge || bias_ < 1;
}

const uint16_t* StripedProfile::trace_fill(const uint8_t* t, int tlen, TraceBuffer& buf, int& best, int& bi,
                                           int& bj) const {
  // H of every cell, 2 bytes each.
  uint16_t* h = reinterpret_cast<uint16_t*>(buf.reserve(size_t(tlen) * seg_len_ * lanes_ * 2));
  const size_t columns = size_t(4) * seg_len_ * lanes_;
  if (trace_work_.size() < columns + 16) trace_work_.assign(columns + 16, 0);
  uint16_t* w = trace_work_.data() + (32 - (reinterpret_cast<uintptr_t>(trace_work_.data()) & 31)) / 2 % 16;
  const uint16_t* p = data_.data() + offset_;
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  const bool stream = size_t(tlen) * seg_len_ * lanes_ * 2 > kStreamBytes;
  if (level_ == SimdLevel::Avx2)
    best = stream ? trace_avx2<true>(p, seg_len_, t, tlen, bias_, go, ge, w, h, bi, bj)
                  : trace_avx2<false>(p, seg_len_, t, tlen, bias_, go, ge, w, h, bi, bj);
  else
    best = stream ? trace_sse41<true>(p, seg_len_, t, tlen, bias_, go, ge, w, h, bi, bj)
                  : trace_sse41<false>(p, seg_len_, t, tlen, bias_, go, ge, w, h, bi, bj);
  // (Where 16 bits saturated the caller falls back to the scalar fill and ignores the cell.)
  if (best > 0 && bi >= query_->len && best + query_->max_score + bias_ < 0xFFFF)
    fail("internal: striped traceback end cell in a padding row");
  return h;
}

void StripedProfile::trace_walk(const uint16_t* h, const uint8_t* t, int bi, int bj, Alignment& out) const {
  if (row_offset_.empty()) {
    row_offset_.resize(size_t(query_->len));
    for (int i = 0; i < query_->len; ++i) row_offset_[i] = uint32_t((i % seg_len_) * lanes_ + i / seg_len_);
  }
  walk_back(*query_, t,
            StripedH(h, size_t(seg_len_) * lanes_, row_offset_.data(), *query_, t, out.score, scoring_->gap_open,
                     scoring_->gap_extend, walk_e_, walk_f_),
            bi, bj, false, out);
}

Alignment StripedProfile::align_scored(const uint8_t* t, int tlen, int score, TraceBuffer& dir) const {
  const QueryProfile& q = *query_;
  if (simd_fill_unsupported()) return sw_align_scored(q, t, tlen, *scoring_, score, dir);
  Alignment out;
  if (q.len == 0 || tlen == 0 || score <= 0) return out;
  auto check = [&](int best) {
    if (best != score)
      fail("StripedProfile::align_scored: best score ", best, " is not the given ", score, " (not the exact score)");
  };
  // 16-bit lanes could saturate (a score or column index that does not fit): 32-bit lanes.
  if (tlen >= 0xFFFF || score + q.max_score + bias_ >= 0xFFFF) {
    out = align_wide(t, tlen, dir);
    check(out.score);
    return out;
  }
  int best, bi, bj;
  const uint16_t* h = trace_fill(t, tlen, dir, best, bi, bj);
  check(best);
  out.score = score;
  trace_walk(h, t, bi, bj, out);
  dir.release_if_large();
  return out;
}

Alignment StripedProfile::align(const uint8_t* t, int tlen, TraceBuffer& dir) const {
  const QueryProfile& q = *query_;
  Alignment out;
  if (q.len == 0 || tlen == 0) return out;
  if (simd_fill_unsupported()) return sw_align_scalar(q, t, tlen, *scoring_, dir);
  if (tlen >= 0xFFFF || may_saturate(t, tlen)) return align_wide(t, tlen, dir);
  int best, bi, bj;
  const uint16_t* h = trace_fill(t, tlen, dir, best, bi, bj);
  // Saturation, decided after the fill by score()'s rule: the first clipped addition needs an H
  // above 65535 - max profile value, which the (exact until then) maximum then shows.
  if (best + q.max_score + bias_ >= 0xFFFF) return align_wide(t, tlen, dir);
  if (best <= 0) return out;
  out.score = best;
  trace_walk(h, t, bi, bj, out);
  dir.release_if_large();
  return out;
}

}  // namespace esm::align
