// The exact traceback for pairs whose scores may not fit 16 bits (very long, self-similar pairs:
// titin against titin scores ~160,000): a striped (Farrar) fill in 32-bit lanes (AVX2: 8,
// SSE4.1: 4) that stores, for every cell, the 4 bits the scalar fill of sw_align_reference stores
// in its direction byte (traceback_walk.hpp: H's source with ties diag > E > F, E/F "extended"
// with extend preferred on ties), walked back by the shared walk. Half a byte per cell (a titin
// pair: 0.6 GB), at a fraction of the scalar fill's time; the 16-bit fill (sw_simd_trace.cpp)
// stores H instead and works the directions out on the walk, which 32-bit values would make 4
// bytes per cell (4.8 GB for a titin pair).
//
// Per target column j, in striped query order (i = lane * seg_len + segment):
//  1. H without F (from the diagonal and E) and, per lane, the vertical gap leaving the lane
//     from its own cells;
//  2. F entering every lane: those gaps carried down all lanes below by a log2(lanes)-step
//     max-scan (each lane costs seg_len * gap_extend), so F is exact without a lazy loop;
//  3. one pass over the segments: final H = max(H without F, F), F of the next row, and the
//     byte: H's source, F's extend bit (from H and F of row i-1), E's extend bit (from H and E
//     of column j-1), E for column j+1, and the column's maximum;
//  4. the end cell, the first maximum in row-major order (smallest i, then smallest j): H
//     columns rotate through three buffers and the column holding the best score so far is kept
//     by not reusing its buffer; its row is found by scanning it (V::first_row). Padding rows
//     (i >= qlen) never hold a maximum that reaches the best so far: their profile entries are
//     0, below every real entry by bias >= 1.
//
// Why the bytes are the reference's with values clamped at 0 (subs = max(a - b, 0)):
//  - Clamping: every stored value is max(true value, 0), because max and "subtract c >= 0,
//    clamp at 0" commute with max(., 0).
//  - H's source: the reference takes the first of (diag, E, F) strictly above the running max
//    starting at 0. With h = max(0, m, e, f): h == 0 -> stop; else the first of m, e, f equal
//    to h. A clamped value equals h > 0 only if its true value does.
//  - Extend bits (ext >= open): true ext >= open implies clamped ext >= clamped open; they can
//    differ only where both are <= 0, and the walk reads an extend bit only inside a gap whose
//    value is > 0 (a gap on the path carries a positive score).
//  - F: with gap_open >= gap_extend, F(i) = max(F(i-1) - ge, H(i-1) - go) equals
//    max(F(i-1) - ge, Hnof(i-1) - go) (H's F term opens no better than F extends), so steps 1-2
//    need no final H; the recurrence is a max-plus scan, evaluated exactly by the lane-wise pass
//    plus the cross-lane scan. Other gap costs take the scalar path (simd_fill_unsupported).
#include <algorithm>
#include <climits>

#include "align/simd_vec.hpp"
#include "align/sw_simd.hpp"
#include "align/traceback_walk.hpp"
#include "core/error.hpp"

namespace esm::align {

using namespace detail;

namespace {

// `work`: 5 * seg_len vectors (three H columns, E of this and of the previous column).
// `dir`: tlen * (seg_len + 1) / 2 * lanes bytes (StripedNibbles). Returns the best score and its
// cell (bi, bj; -1 when the best is 0).
#define ESM_WIDE_KERNEL(NAME, V, ATTR)                                                            \
  ATTR int NAME(const int32_t* prof, int seg_len, const uint8_t* t, int tlen, int bias, int go,    \
                int ge, int32_t* work, uint8_t* dir, int& bi, int& bj) {                         \
    using T = V::T;                                                                               \
    T* const col0 = reinterpret_cast<T*>(work);                                                   \
    T* buf[3] = {col0, col0 + seg_len, col0 + 2 * seg_len};                                       \
    T* ecur = col0 + 3 * seg_len;                                                                 \
    T* eprev = col0 + 4 * seg_len;                                                                \
    T* hcur = buf[0];                                                                             \
    T* hprev = buf[1];                                                                            \
    T* kept = nullptr; /* the column holding the best score so far */                             \
    int kept_row = -1; /* its first row holding it; -1: not scanned yet */                        \
    int best = 0;                                                                                 \
    bi = bj = -1;                                                                                 \
    const T zero = V::zero();                                                                     \
    for (int s = 0; s < 5 * seg_len; ++s) V::store(col0 + s, zero);                               \
    const T vgo = V::set1(go), vge = V::set1(ge), vbias = V::set1(bias);                          \
    const T vlast = V::set1((seg_len - 1) * ge); /* F's decay down one lane */                    \
    const T v1 = V::set1(kDiag), v2 = V::set1(kFromE), v3 = V::set1(kFromF);                      \
    const T veext = V::set1(kEExt), vfext = V::set1(kFExt);                                       \
    const size_t pairs = size_t(seg_len + 1) / 2; /* byte groups per column: two segments each */ \
    const T* P = reinterpret_cast<const T*>(prof);                                                \
    for (int j = 0; j < tlen; ++j) {                                                              \
      const T* pj = P + size_t(t[j]) * seg_len;                                                   \
      hprev = hcur;                                                                               \
      hcur = buf[0] != hprev && buf[0] != kept ? buf[0] : buf[1] != hprev && buf[1] != kept ? buf[1] : buf[2]; \
      /* 1. H without F, and F from within each lane only (ft: at the last segment). */           \
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
      /* 3. Final H and F, and the bytes. fext: F(i) extends F(i - 1). */                         \
      T fext = V::at_least(V::shift_up(V::subs(flast, vge)), V::shift_up(V::subs(hlast, vgo)));   \
      diag = V::shift_up(V::load(hprev + seg_len - 1));                                           \
      T colmax = zero, even = zero; /* even: segment s - 1's directions, stored with s's */      \
      uint8_t* dj = dir + size_t(j) * pairs * V::lanes;                                           \
      for (int s = 0; s < seg_len; ++s) {                                                         \
        const T f = vf, h = V::max(V::load(hcur + s), f), e = V::load(ecur + s);                  \
        const T left = V::load(hprev + s);                                                        \
        const T m = V::subs(V::adds(diag, V::load(pj + s)), vbias);                               \
        T src = V::select(V::eq(h, e), v2, v3);                                                   \
        src = V::select(V::eq(h, m), v1, src);                                                    \
        src = V::select(V::eq(h, zero), zero, src);                                               \
        const T eext = V::and_(V::at_least(V::subs(V::load(eprev + s), vge), V::subs(left, vgo)), veext); \
        const T nibble = V::or_(src, V::or_(V::and_(fext, vfext), eext));                         \
        if (s & 1)                                                                                \
          V::store_bytes(dj + size_t(s / 2) * V::lanes, V::or_(even, V::shl4(nibble)));           \
        else                                                                                      \
          even = nibble;                                                                          \
        V::store(hcur + s, h);                                                                    \
        V::store(eprev + s, V::max(V::subs(e, vge), V::subs(h, vgo)));                            \
        colmax = V::max(colmax, h);                                                               \
        const T f_ext = V::subs(f, vge), f_open = V::subs(h, vgo);                                \
        fext = V::at_least(f_ext, f_open);                                                        \
        vf = V::max(f_ext, f_open);                                                               \
        diag = left;                                                                              \
      }                                                                                           \
      if (seg_len & 1) V::store_bytes(dj + size_t(seg_len / 2) * V::lanes, even);                 \
      std::swap(ecur, eprev);                                                                     \
      /* 4. The end cell (see above). */                                                          \
      if (V::any_gt(colmax, V::set1(best))) {                                                     \
        best = V::hmax(colmax), kept = hcur, kept_row = -1, bj = j;                               \
      } else if (best > 0 && V::any_gt(colmax, V::set1(best - 1))) {                              \
        if (kept_row < 0) kept_row = V::first_row(kept, seg_len, best);                           \
        const int row = V::first_row(hcur, seg_len, best);                                        \
        if (row < kept_row) kept = hcur, kept_row = row, bj = j;                                  \
      }                                                                                           \
    }                                                                                             \
    if (best > 0) bi = kept_row >= 0 ? kept_row : V::first_row(kept, seg_len, best);             \
    return best;                                                                                  \
  }

ESM_WIDE_KERNEL(wide_sse41, Sse41x32, ESM_SSE41)
ESM_WIDE_KERNEL(wide_avx2, Avx2x32, ESM_AVX2)

// Striped directions, 4 bits per cell: column j holds (seg_len + 1) / 2 groups of `lanes` bytes,
// group g holding segment 2g in the low and 2g + 1 in the high half of each lane's byte.
struct StripedNibbles {
  const uint8_t* dir;
  int seg_len, lanes;
  uint8_t operator()(int i, int j) const {
    const int seg = i % seg_len;
    const uint8_t b = dir[(size_t(j) * ((seg_len + 1) / 2) + seg / 2) * lanes + i / seg_len];
    return seg & 1 ? b >> 4 : b & 15;
  }
};

}  // namespace

void StripedProfile::build_wide() const {
  const QueryProfile& q = *query_;
  wide_lanes_ = level_ == SimdLevel::Avx2 ? 8 : 4;
  wide_seg_len_ = std::max(1, (q.len + wide_lanes_ - 1) / wide_lanes_);
  const size_t stride = size_t(wide_seg_len_) * wide_lanes_;
  wide_profile_.assign(kAlphabet * stride + 8, 0);  // padding rows keep 0, as in the 16-bit profile
  int32_t* p = wide_profile_aligned();
  for (int i = 0; i < q.len; ++i) {
    const int16_t* row = q.row(i);
    int32_t* at = p + size_t(i % wide_seg_len_) * wide_lanes_ + i / wide_seg_len_;
    for (int a = 0; a < kAlphabet; ++a) at[a * stride] = row[a] + bias_;
  }
  wide_work_.assign(5 * stride + 8, 0);
}

Alignment StripedProfile::align_wide(const uint8_t* t, int tlen, TraceBuffer& dir) const {
  const QueryProfile& q = *query_;
  if (simd_fill_unsupported()) fail("StripedProfile::align_wide: no striped fill for this SIMD level or these gap costs");
  Alignment out;
  if (q.len == 0 || tlen == 0) return out;
  if (wide_profile_.empty()) build_wide();
  uint8_t* d = dir.reserve(wide_traceback_bytes(tlen));
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  int bi, bj;
  const int32_t* p = wide_profile_aligned();
  int32_t* w = wide_work_aligned();
  const int best = level_ == SimdLevel::Avx2 ? wide_avx2(p, wide_seg_len_, t, tlen, bias_, go, ge, w, d, bi, bj)
                                             : wide_sse41(p, wide_seg_len_, t, tlen, bias_, go, ge, w, d, bi, bj);
  if (best > 0 && bi >= q.len) fail("internal: wide traceback end cell in a padding row");
  out.score = best;
  if (best > 0)
    walk_back(q, t, DirBytes<StripedNibbles>{StripedNibbles{d, wide_seg_len_, wide_lanes_}}, bi, bj, false, out);
  dir.release_if_large();
  return out;
}

}  // namespace esm::align
