// The striped (Farrar) Smith-Waterman fill with direction bits: the fast path of the exact
// traceback. For every cell it stores the byte the scalar fill of sw_align_reference stores
// (traceback_walk.hpp: H source with ties diag > E > F, E/F "extended" with extend preferred on
// ties), so the shared walk back gives exactly the reference's alignment.
//
// Per target column j, in striped query order (i = lane * seg_len + segment):
//  1. H without F (from the diagonal and E) and, per lane, the vertical gap leaving the lane
//     from its own cells;
//  2. F entering every lane: those gaps carried down all lanes below by a log2(lanes)-step
//     max-scan (each lane costs seg_len * gap_extend), so F is exact without Farrar's lazy loop,
//     which for similar sequences ran around every lane boundary in most columns;
//  3. one pass over the segments: final H = max(H without F, F), F of the next position, and
//     the bits: H's source, F's extend bit (from H and F of i-1), E's extend bit (from H and E
//     of column j-1), E for column j+1, and the column's maximum of H (in a register);
//  4. the end cell, the first maximum in row-major order (smallest i, then smallest j), with no
//     score pass first and no per-cell bookkeeping: H columns rotate through three buffers, and
//     the column holding the best score so far is kept by not reusing its buffer. A column
//     whose maximum beats the best is kept as it is (its row is found once, at the end, by
//     scanning it); one that ties the best is scanned and kept only if its row is smaller (a
//     later column in the same row keeps the earlier cell). Padding rows (i >= qlen) never hold
//     a maximum that reaches the best so far: their profile entries are 0, below every real
//     entry by bias >= 1, so each of their values is a real value of this or an earlier column
//     minus bias, go or ge.
//
// Why the bits are the reference's although lanes are unsigned 16-bit saturating (values below 0
// clamp to 0):
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
//  - F is the reference's F (clamped): with gap_open >= gap_extend, F(i) = max(F(i-1) - ge,
//    H(i-1) - go) equals max(F(i-1) - ge, Hnof(i-1) - go) (H's F term opens no better than F
//    extends), so steps 1-2 need no final H; the recurrence is a max-plus scan, which the
//    lane-wise pass plus the cross-lane scan evaluate exactly. Gap costs outside
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

// Columns in `work` (each seg_len vectors): three H buffers (this column, the previous one, and
// the kept best column or a spare), E of this and the previous column (the latter overwritten
// with E of the next). `dir`: tlen * seg_len * lanes bytes. Returns the best score and its cell
// (bi, bj; -1 when the best is 0).
#define ESM_TRACE_KERNEL(NAME, V, ATTR)                                                           \
  ATTR int first_row_of(const V::T* col, int seg_len, uint16_t value) {                           \
    const V::T v = V::set1(value);                                                                \
    V::T any = V::zero();                                                                         \
    for (int s = 0; s < seg_len; ++s) any = V::or_(any, V::eq(V::load(col + s), v));              \
    const uint32_t bits = V::lane_bits(any);                                                      \
    if (!bits) return INT32_MAX;                                                                  \
    const int lane = __builtin_ctz(bits) / 2;                                                     \
    int seg = 0;                                                                                  \
    while (!((V::lane_bits(V::eq(V::load(col + seg), v)) >> (2 * lane)) & 1)) ++seg;              \
    return lane * seg_len + seg;                                                                  \
  }                                                                                               \
  ATTR int NAME(const uint16_t* prof, int seg_len, const uint8_t* t, int tlen, uint16_t bias,      \
                int go, int ge, uint16_t* work, uint8_t* dir, int& bi, int& bj) {                 \
    using T = V::T;                                                                               \
    T* buf[3] = {reinterpret_cast<T*>(work), reinterpret_cast<T*>(work) + seg_len,                \
                 reinterpret_cast<T*>(work) + 2 * seg_len};                                       \
    T* ecur = buf[2] + seg_len;                                                                   \
    T* eprev = ecur + seg_len;                                                                    \
    T* hcur = buf[0];                                                                             \
    T* hprev = buf[1];                                                                            \
    T* kept = nullptr;   /* the column holding the best score so far */                           \
    int kept_row = -1;   /* its first row holding it; -1: not scanned yet */                      \
    int best = 0;                                                                                 \
    bi = bj = -1;                                                                                 \
    const T zero = V::zero();                                                                     \
    for (int s = 0; s < 5 * seg_len; ++s) V::store(buf[0] + s, zero);                             \
    const T vgo = V::set1(uint16_t(go)), vge = V::set1(uint16_t(ge)), vbias = V::set1(bias);      \
    const T vlast = V::set1(clamp16((seg_len - 1) * ge)); /* F's decay down one lane */           \
    const T v1 = V::set1(kDiag), v2 = V::set1(kFromE), v3 = V::set1(kFromF);                      \
    const T veext = V::set1(kEExt), vfext = V::set1(kFExt);                                       \
    const T* P = reinterpret_cast<const T*>(prof);                                                \
    for (int j = 0; j < tlen; ++j) {                                                              \
      const T* pj = P + size_t(t[j]) * seg_len;                                                   \
      hprev = hcur;                                                                               \
      hcur = buf[0] != hprev && buf[0] != kept ? buf[0] : buf[1] != hprev && buf[1] != kept ? buf[1] : buf[2]; \
      /* 1. H without F, and F from within each lane only (ft: at the last segment). */          \
      T vft = zero, ft = zero;                                                                    \
      T diag = V::shift_up(V::load(hprev + seg_len - 1));                                         \
      for (int s = 0; s < seg_len; ++s) {                                                         \
        const T ht = V::max(V::subs(V::adds(diag, V::load(pj + s)), vbias), V::load(ecur + s));   \
        V::store(hcur + s, ht);                                                                   \
        ft = vft;                                                                                 \
        vft = V::max(V::subs(vft, vge), V::subs(ht, vgo));                                        \
        diag = V::load(hprev + s);                                                                \
      }                                                                                           \
      /* 2. F entering each lane (segment 0): the gaps leaving the lanes above, carried down. */  \
      T vf = V::carry_scan(V::shift_up(vft), seg_len * ge);                                       \
      const T flast = V::max(ft, V::subs(vf, vlast));                                             \
      const T hlast = V::max(V::load(hcur + seg_len - 1), flast);                                 \
      /* 3. Final H and F, and the bits. fext: F(i) extends F(i - 1) (computed with F(i)). */     \
      T fext = V::at_least(V::shift_up(V::subs(flast, vge)), V::shift_up(V::subs(hlast, vgo)));   \
      diag = V::shift_up(V::load(hprev + seg_len - 1));                                           \
      T colmax = zero;                                                                            \
      uint8_t* dj = dir + size_t(j) * seg_len * V::lanes;                                         \
      for (int s = 0; s < seg_len; ++s) {                                                         \
        const T f = vf, h = V::max(V::load(hcur + s), f), e = V::load(ecur + s);                  \
        const T left = V::load(hprev + s);                                                        \
        const T m = V::subs(V::adds(diag, V::load(pj + s)), vbias);                               \
        T src = V::select(V::eq(h, e), v2, v3);                                                   \
        src = V::select(V::eq(h, m), v1, src);                                                    \
        src = V::select(V::eq(h, zero), zero, src);                                               \
        const T e_ext = V::subs(V::load(eprev + s), vge), e_open = V::subs(left, vgo);            \
        const T eext = V::and_(V::at_least(e_ext, e_open), veext);                                \
        V::store_bytes(dj + size_t(s) * V::lanes, V::or_(src, V::or_(V::and_(fext, vfext), eext))); \
        V::store(hcur + s, h);                                                                    \
        V::store(eprev + s, V::max(V::subs(e, vge), V::subs(h, vgo)));                            \
        colmax = V::max(colmax, h);                                                               \
        const T f_ext = V::subs(f, vge), f_open = V::subs(h, vgo);                                \
        fext = V::at_least(f_ext, f_open);                                                        \
        vf = V::max(f_ext, f_open);                                                               \
        diag = left;                                                                              \
      }                                                                                           \
      std::swap(ecur, eprev);                                                                     \
      /* 4. The end cell (see above). */                                                          \
      if (V::any_gt(colmax, V::set1(uint16_t(best)))) {                                           \
        best = V::hmax(colmax), kept = hcur, kept_row = -1, bj = j;                               \
      } else if (best > 0 && V::any_gt(colmax, V::set1(uint16_t(best - 1)))) {                    \
        if (kept_row < 0) kept_row = first_row_of(kept, seg_len, uint16_t(best));                 \
        const int row = first_row_of(hcur, seg_len, uint16_t(best));                              \
        if (row < kept_row) kept = hcur, kept_row = row, bj = j;                                  \
      }                                                                                           \
    }                                                                                             \
    if (best > 0) bi = kept_row >= 0 ? kept_row : first_row_of(kept, seg_len, uint16_t(best));    \
    return best;                                                                                  \
  }

ESM_TRACE_KERNEL(trace_sse41, Sse41, ESM_SSE41)
ESM_TRACE_KERNEL(trace_avx2, Avx2, ESM_AVX2)

// Striped direction bytes: column j holds seg_len groups of `lanes` bytes.
struct StripedDir {
  const uint8_t* dir;
  int seg_len, lanes;
  uint8_t operator()(int i, int j) const {
    return dir[(size_t(j) * seg_len + i % seg_len) * lanes + i / seg_len];
  }
};

}  // namespace

bool StripedProfile::trace_fallback(int tlen) const {
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  // bias_ >= 1 keeps padding rows below the real maximum (the end-cell argument above).
  return level_ == SimdLevel::Scalar || tlen >= 0xFFFF || ge < 1 || go < ge || bias_ < 1;
}

int StripedProfile::trace_fill(const uint8_t* t, int tlen, std::vector<uint8_t>& dir, int& bi, int& bj) const {
  const size_t cells = size_t(tlen) * seg_len_ * lanes_;
  if (dir.size() < cells) std::vector<uint8_t>(cells).swap(dir);  // exactly this size (see sw_align_scored)
  const size_t columns = size_t(5) * seg_len_ * lanes_;
  if (trace_work_.size() < columns + 16) trace_work_.assign(columns + 16, 0);
  uint16_t* w = trace_work_.data() + (32 - (reinterpret_cast<uintptr_t>(trace_work_.data()) & 31)) / 2 % 16;
  const uint16_t* p = data_.data() + offset_;
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  const int best = level_ == SimdLevel::Avx2 ? trace_avx2(p, seg_len_, t, tlen, bias_, go, ge, w, dir.data(), bi, bj)
                                             : trace_sse41(p, seg_len_, t, tlen, bias_, go, ge, w, dir.data(), bi, bj);
  // (Where 16 bits saturated the caller falls back to the scalar fill and ignores the cell.)
  if (best > 0 && bi >= query_->len && best + query_->max_score + bias_ < 0xFFFF)
    fail("internal: striped traceback end cell in a padding row");
  return best;
}

Alignment StripedProfile::align_scored(const uint8_t* t, int tlen, int score,
                                        std::vector<uint8_t>& dir) const {
  const QueryProfile& q = *query_;
  // Fallbacks: no SIMD; 16-bit lanes could saturate (a score or column index that does not
  // fit); gap costs the F argument above does not cover.
  if (trace_fallback(tlen) || score + q.max_score + bias_ >= 0xFFFF)
    return sw_align_scored(q, t, tlen, *scoring_, score, dir);
  Alignment out;
  if (q.len == 0 || tlen == 0 || score <= 0) return out;
  int bi, bj;
  const int best = trace_fill(t, tlen, dir, bi, bj);
  if (best != score)
    fail("StripedProfile::align_scored: best score ", best, " is not the given ", score, " (not the exact score)");
  out.score = score;
  walk_back(q, t, StripedDir{dir.data(), seg_len_, lanes_}, bi, bj, false, out);
  if (dir.size() > (size_t(16) << 20)) std::vector<uint8_t>().swap(dir);
  return out;
}

Alignment StripedProfile::align(const uint8_t* t, int tlen, std::vector<uint8_t>& dir) const {
  const QueryProfile& q = *query_;
  Alignment out;
  if (q.len == 0 || tlen == 0) return out;
  auto scalar = [&] {
    return sw_align_scored(q, t, tlen, *scoring_, sw_score_reference(q, t, tlen, *scoring_), dir);
  };
  if (trace_fallback(tlen)) return scalar();
  int bi, bj;
  const int best = trace_fill(t, tlen, dir, bi, bj);
  // Saturation, decided after the fill by score()'s rule: the first clipped addition needs an H
  // above 65535 - max profile value, which the (exact until then) maximum then shows.
  if (best + q.max_score + bias_ >= 0xFFFF) return scalar();
  if (best <= 0) return out;
  out.score = best;
  walk_back(q, t, StripedDir{dir.data(), seg_len_, lanes_}, bi, bj, false, out);
  if (dir.size() > (size_t(16) << 20)) std::vector<uint8_t>().swap(dir);
  return out;
}

}  // namespace esm::align
