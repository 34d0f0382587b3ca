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
//     of column j-1), E for column j+1, and per query position the running row maximum of H and
//     the first column reaching it. The end cell, the first maximum in row-major order (smallest
//     i, then smallest j), is then the smallest query position whose row maximum is the overall
//     maximum, at the first column where that row reached it: no score pass is needed first.
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
#include <cstring>

#include "align/simd_vec.hpp"
#include "align/sw_simd.hpp"
#include "align/traceback_walk.hpp"
#include "core/error.hpp"

namespace esm::align {

using namespace detail;

namespace {

// Columns in `work` (each seg_len vectors): H of this and the previous column, E of this and
// the previous column (the latter overwritten with E of the next), and per query position the
// row maximum of H so far and the first column reaching it (column indices fit 16 bits:
// tlen < 0xFFFF). `dir`: tlen * seg_len * lanes bytes.
#define ESM_TRACE_KERNEL(NAME, V, ATTR)                                                           \
  ATTR void NAME(const uint16_t* prof, int seg_len, const uint8_t* t, int tlen, uint16_t bias,     \
                 int go, int ge, uint16_t* work, uint8_t* dir) {                                  \
    using T = V::T;                                                                               \
    T* hcur = reinterpret_cast<T*>(work);                                                         \
    T* hprev = hcur + seg_len;                                                                    \
    T* ecur = hprev + seg_len;                                                                    \
    T* eprev = ecur + seg_len;                                                                    \
    T* rowmax = eprev + seg_len;                                                                  \
    T* rowcol = rowmax + seg_len;                                                                 \
    const T zero = V::zero();                                                                     \
    for (int s = 0; s < 6 * seg_len; ++s) V::store(hcur + s, zero);                               \
    const T vgo = V::set1(uint16_t(go)), vge = V::set1(uint16_t(ge)), vbias = V::set1(bias);      \
    const T vlast = V::set1(clamp16((seg_len - 1) * ge)); /* F's decay down one lane */           \
    const T v1 = V::set1(kDiag), v2 = V::set1(kFromE), v3 = V::set1(kFromF);                      \
    const T veext = V::set1(kEExt), vfext = V::set1(kFExt);                                       \
    const T* P = reinterpret_cast<const T*>(prof);                                                \
    for (int j = 0; j < tlen; ++j) {                                                              \
      const T* pj = P + size_t(t[j]) * seg_len;                                                   \
      std::swap(hcur, hprev);                                                                     \
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
      const T vj = V::set1(uint16_t(j));                                                          \
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
        /* Strictly above the row maximum: a new first column (ties keep the earlier one). */    \
        const T rm = V::load(rowmax + s);                                                         \
        V::store(rowcol + s, V::select(V::eq(V::subs(h, rm), zero), V::load(rowcol + s), vj));    \
        V::store(rowmax + s, V::max(rm, h));                                                      \
        const T f_ext = V::subs(f, vge), f_open = V::subs(h, vgo);                                \
        fext = V::at_least(f_ext, f_open);                                                        \
        vf = V::max(f_ext, f_open);                                                               \
        diag = left;                                                                              \
      }                                                                                           \
      std::swap(ecur, eprev);                                                                     \
    }                                                                                             \
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
  return level_ == SimdLevel::Scalar || tlen >= 0xFFFF || ge < 1 || go < ge;
}

int StripedProfile::trace_fill(const uint8_t* t, int tlen, std::vector<uint8_t>& dir, int& bi, int& bj) const {
  const size_t cells = size_t(tlen) * seg_len_ * lanes_;
  if (dir.size() < cells) std::vector<uint8_t>(cells).swap(dir);  // exactly this size (see sw_align_scored)
  const size_t columns = size_t(6) * seg_len_ * lanes_;
  if (trace_work_.size() < columns + 16) trace_work_.assign(columns + 16, 0);
  uint16_t* w = trace_work_.data() + (32 - (reinterpret_cast<uintptr_t>(trace_work_.data()) & 31)) / 2 % 16;
  const uint16_t* p = data_.data() + offset_;
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  if (level_ == SimdLevel::Avx2)
    trace_avx2(p, seg_len_, t, tlen, bias_, go, ge, w, dir.data());
  else
    trace_sse41(p, seg_len_, t, tlen, bias_, go, ge, w, dir.data());
  // The end cell: the smallest query position whose row maximum is the overall one, at the
  // first column reaching it.
  const uint16_t* rowmax = w + size_t(4) * seg_len_ * lanes_;
  const uint16_t* rowcol = rowmax + size_t(seg_len_) * lanes_;
  auto at = [&](int i) { return size_t(i % seg_len_) * lanes_ + i / seg_len_; };
  int best = 0;
  bi = bj = -1;
  for (int i = 0; i < query_->len; ++i)
    if (rowmax[at(i)] > best) best = rowmax[at(i)], bi = i, bj = rowcol[at(i)];
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
