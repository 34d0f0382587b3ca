#include "align/sw_simd.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "align/simd_vec.hpp"
#include "align/sw_reference.hpp"
#include "core/error.hpp"

namespace esm::align {

SimdLevel best_simd_level() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return SimdLevel::Avx2;
  if (__builtin_cpu_supports("sse4.1")) return SimdLevel::Sse41;
#endif
  return SimdLevel::Scalar;
}

const char* simd_level_name(SimdLevel l) {
  switch (l) {
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Sse41: return "sse4.1";
    default: return "scalar";
  }
}

namespace {

// The striped kernel for one vector type (V: detail::Sse41 or detail::Avx2, 16-bit lanes of
// type E = uint16_t; detail::Sse41x32 or detail::Avx2x32, E = int32_t, for scores past 16 bits;
// simd_vec.hpp), compiled for that ISA through the target attribute ATTR.
#define ESM_STRIPED_KERNEL(NAME, V, E, ATTR)                                                  \
  ATTR int NAME(const E* prof, int seg_len, const uint8_t* t, int tlen, int bias, int go,    \
                int ge, E* work) {                                                           \
    using T = V::T;                                                                          \
    T* hstore = reinterpret_cast<T*>(work);                                                  \
    T* hload = hstore + seg_len;                                                             \
    T* earr = hload + seg_len;                                                               \
    const T zero = V::zero();                                                                \
    for (int s = 0; s < 3 * seg_len; ++s) V::store(hstore + s, zero);                        \
    const T vgo = V::set1(go), vge = V::set1(ge), vbias = V::set1(bias);                     \
    T vmax = zero;                                                                           \
    const T* P = reinterpret_cast<const T*>(prof);                                           \
    for (int j = 0; j < tlen; ++j) {                                                         \
      const T* pj = P + size_t(t[j]) * seg_len;                                              \
      T vf = zero;                                                                           \
      T vh = V::shift_up(V::load(hstore + seg_len - 1));                                     \
      std::swap(hstore, hload);                                                              \
      for (int s = 0; s < seg_len; ++s) {                                                    \
        vh = V::subs(V::adds(vh, V::load(pj + s)), vbias);                                   \
        T ve = V::load(earr + s);                                                            \
        vh = V::max(vh, ve);                                                                 \
        vh = V::max(vh, vf);                                                                 \
        vmax = V::max(vmax, vh);                                                             \
        V::store(hstore + s, vh);                                                            \
        const T hgo = V::subs(vh, vgo);                                                      \
        V::store(earr + s, V::max(V::subs(ve, vge), hgo));                                   \
        vf = V::max(V::subs(vf, vge), hgo);                                                  \
        vh = V::load(hload + s);                                                             \
      }                                                                                      \
      /* Lazy F. vf: the gaps leaving each lane from within it; the scan carries them down  \
         all lanes below at once, giving the exact F entering each lane (gap_open >=         \
         gap_extend: a raised H opens no better than F extends), so the loop runs down the   \
         lanes once and never wraps (similar sequences: gaps cross every lane). */          \
      vf = V::carry_scan(V::shift_up(vf), seg_len * ge);                                     \
      for (int s = 0; s < seg_len && V::any_gt(vf, V::subs(V::load(hstore + s), vgo)); ++s) { \
        const T h = V::max(V::load(hstore + s), vf);                                         \
        V::store(hstore + s, h);                                                             \
        vmax = V::max(vmax, h);                                                              \
        V::store(earr + s, V::max(V::load(earr + s), V::subs(h, vgo)));                      \
        vf = V::subs(vf, vge);                                                               \
      }                                                                                      \
    }                                                                                        \
    return V::hmax(vmax);                                                                    \
  }

using detail::Avx2;
using detail::Avx2x32;
using detail::Sse41;
using detail::Sse41x32;

ESM_STRIPED_KERNEL(striped_sse41, Sse41, uint16_t, ESM_SSE41)
ESM_STRIPED_KERNEL(striped_avx2, Avx2, uint16_t, ESM_AVX2)
ESM_STRIPED_KERNEL(striped_wide_sse41, Sse41x32, int32_t, ESM_SSE41)
ESM_STRIPED_KERNEL(striped_wide_avx2, Avx2x32, int32_t, ESM_AVX2)

}  // namespace

StripedProfile::StripedProfile(const QueryProfile& q, const Scoring& s, SimdLevel level)
    : query_(&q), scoring_(&s), level_(std::min(level, best_simd_level())) {
  if (level_ == SimdLevel::Scalar) return;
  lanes_ = level_ == SimdLevel::Avx2 ? 16 : 8;
  seg_len_ = std::max(1, (q.len + lanes_ - 1) / lanes_);
  bias_ = uint16_t(-std::min(0, q.min_score));
  const size_t n = size_t(kAlphabet) * seg_len_ * lanes_;
  data_.assign(n + 16, 0);
  offset_ = (32 - (reinterpret_cast<uintptr_t>(data_.data()) & 31)) / 2 % 16;
  uint16_t* p = data_.data() + offset_;
  // Padding rows past the query end keep 0, the most negative value: they never beat a real
  // cell and never feed one (they sit after the last query position).
  const size_t letter_stride = size_t(seg_len_) * lanes_;
  for (int i = 0; i < q.len; ++i) {
    const int16_t* row = q.row(i);
    uint16_t* at = p + size_t(i % seg_len_) * lanes_ + i / seg_len_;
    int16_t best = 0;
    for (int a = 0; a < kAlphabet; ++a) {
      at[a * letter_stride] = uint16_t(row[a] + bias_);
      best = std::max(best, row[a]);
      letter_max_[a] = std::max(letter_max_[a], row[a]);
    }
    query_bound_ += best;
  }
  work_.assign(size_t(3) * seg_len_ * lanes_ + 16, 0);
}

bool StripedProfile::may_saturate(const uint8_t* t, int tlen) const {
  const int64_t room = int64_t(0xFFFF) - query_->max_score - bias_;  // a best score below this fits
  if (query_bound_ < room) return false;
  int64_t target_bound = 0;
  for (int j = 0; j < tlen && target_bound < room; ++j) target_bound += letter_max_[t[j]];
  return target_bound >= room;
}

int StripedProfile::score_wide(const uint8_t* t, int tlen) const {
  if (level_ == SimdLevel::Scalar) fail("StripedProfile::score_wide: no SIMD level");
  if (tlen == 0) return 0;
  if (wide_profile_.empty()) build_wide();
  int32_t* w = wide_work_aligned();
  const int32_t* p = wide_profile_aligned();
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  return level_ == SimdLevel::Avx2 ? striped_wide_avx2(p, wide_seg_len_, t, tlen, bias_, go, ge, w)
                                   : striped_wide_sse41(p, wide_seg_len_, t, tlen, bias_, go, ge, w);
}

int StripedProfile::score(const uint8_t* t, int tlen) const {
  if (level_ == SimdLevel::Scalar || tlen == 0) return sw_score_reference(*query_, t, tlen, *scoring_);
  if (may_saturate(t, tlen)) return score_wide(t, tlen);
  uint16_t* w = work_.data() + (32 - (reinterpret_cast<uintptr_t>(work_.data()) & 31)) / 2 % 16;
  const uint16_t* p = data_.data() + offset_;
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  const int best = level_ == SimdLevel::Avx2 ? striped_avx2(p, seg_len_, t, tlen, bias_, go, ge, w)
                                             : striped_sse41(p, seg_len_, t, tlen, bias_, go, ge, w);
  // Saturation: the 16-bit lanes may have clipped; redo it in 32-bit lanes.
  if (best + query_->max_score + bias_ >= 65535) return score_wide(t, tlen);
  return best;
}

}  // namespace esm::align
