#include "align/sw_simd.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "align/sw_reference.hpp"

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

// The striped kernel for one vector width. V provides: type T, lanes, load/store, adds/subs
// (unsigned saturating), max, zero, set1, shift_up (lane k -> k+1, 0 into lane 0), any_gt
// (a > b in some lane, unsigned), hmax. Every function is compiled for the ISA of V through
// the target attribute on its wrapper, so the rest of the program stays baseline x86-64.
#define ESM_STRIPED_KERNEL(NAME, V, ATTR)                                                     \
  ATTR int NAME(const uint16_t* prof, int seg_len, const uint8_t* t, int tlen, uint16_t bias, \
                int go, int ge, uint16_t* work) {                                            \
    using T = V::T;                                                                          \
    T* hstore = reinterpret_cast<T*>(work);                                                  \
    T* hload = hstore + seg_len;                                                             \
    T* earr = hload + seg_len;                                                               \
    const T zero = V::zero();                                                                \
    for (int s = 0; s < 3 * seg_len; ++s) V::store(hstore + s, zero);                        \
    const T vgo = V::set1(uint16_t(go)), vge = V::set1(uint16_t(ge)), vbias = V::set1(bias); \
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
      /* Lazy F: carry vertical gaps across lane boundaries until they change nothing. */    \
      vf = V::shift_up(vf);                                                                  \
      int s = 0;                                                                             \
      while (V::any_gt(vf, V::subs(V::load(hstore + s), vgo))) {                             \
        const T h = V::max(V::load(hstore + s), vf);                                         \
        V::store(hstore + s, h);                                                             \
        vmax = V::max(vmax, h);                                                              \
        V::store(earr + s, V::max(V::load(earr + s), V::subs(h, vgo)));                      \
        vf = V::subs(vf, vge);                                                               \
        if (++s == seg_len) {                                                                \
          vf = V::shift_up(vf);                                                              \
          s = 0;                                                                             \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    return V::hmax(vmax);                                                                    \
  }

#define ESM_SSE41 __attribute__((target("sse4.1")))
#define ESM_AVX2 __attribute__((target("avx2")))

struct Sse41 {
  using T = __m128i;
  static constexpr int lanes = 8;
  ESM_SSE41 static T zero() { return _mm_setzero_si128(); }
  ESM_SSE41 static T set1(uint16_t v) { return _mm_set1_epi16(short(v)); }
  ESM_SSE41 static T load(const T* p) { return _mm_load_si128(p); }
  ESM_SSE41 static void store(T* p, T v) { _mm_store_si128(p, v); }
  ESM_SSE41 static T adds(T a, T b) { return _mm_adds_epu16(a, b); }
  ESM_SSE41 static T subs(T a, T b) { return _mm_subs_epu16(a, b); }
  ESM_SSE41 static T max(T a, T b) { return _mm_max_epu16(a, b); }
  ESM_SSE41 static T shift_up(T a) { return _mm_slli_si128(a, 2); }
  ESM_SSE41 static bool any_gt(T a, T b) {
    const T d = _mm_subs_epu16(a, b);
    return !_mm_testz_si128(d, d);
  }
  ESM_SSE41 static int hmax(T v) {
    alignas(16) uint16_t x[8];
    _mm_store_si128(reinterpret_cast<T*>(x), v);
    return *std::max_element(x, x + 8);
  }
};

struct Avx2 {
  using T = __m256i;
  static constexpr int lanes = 16;
  ESM_AVX2 static T zero() { return _mm256_setzero_si256(); }
  ESM_AVX2 static T set1(uint16_t v) { return _mm256_set1_epi16(short(v)); }
  ESM_AVX2 static T load(const T* p) { return _mm256_load_si256(p); }
  ESM_AVX2 static void store(T* p, T v) { _mm256_store_si256(p, v); }
  ESM_AVX2 static T adds(T a, T b) { return _mm256_adds_epu16(a, b); }
  ESM_AVX2 static T subs(T a, T b) { return _mm256_subs_epu16(a, b); }
  ESM_AVX2 static T max(T a, T b) { return _mm256_max_epu16(a, b); }
  // Lane k -> k+1 across the two 128-bit halves: [0, lo] then byte-align with the input.
  ESM_AVX2 static T shift_up(T a) {
    return _mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 14);
  }
  ESM_AVX2 static bool any_gt(T a, T b) {
    const T d = _mm256_subs_epu16(a, b);
    return !_mm256_testz_si256(d, d);
  }
  ESM_AVX2 static int hmax(T v) {
    alignas(32) uint16_t x[16];
    _mm256_store_si256(reinterpret_cast<T*>(x), v);
    return *std::max_element(x, x + 16);
  }
};

ESM_STRIPED_KERNEL(striped_sse41, Sse41, ESM_SSE41)
ESM_STRIPED_KERNEL(striped_avx2, Avx2, ESM_AVX2)

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
  for (int a = 0; a < kAlphabet; ++a)
    for (int seg = 0; seg < seg_len_; ++seg)
      for (int lane = 0; lane < lanes_; ++lane) {
        const int i = lane * seg_len_ + seg;
        // Padding rows past the query end score the most negative value: they never beat a
        // real cell and never feed one (they sit after the last query position).
        const int v = i < q.len ? q.row(i)[a] + bias_ : 0;
        p[(size_t(a) * seg_len_ + seg) * lanes_ + lane] = uint16_t(v);
      }
  work_.assign(size_t(3) * seg_len_ * lanes_ + 16, 0);
}

int StripedProfile::score(const uint8_t* t, int tlen) const {
  if (level_ == SimdLevel::Scalar || tlen == 0) return sw_score_reference(*query_, t, tlen, *scoring_);
  uint16_t* w = work_.data() + (32 - (reinterpret_cast<uintptr_t>(work_.data()) & 31)) / 2 % 16;
  const uint16_t* p = data_.data() + offset_;
  const int go = scoring_->gap_open, ge = scoring_->gap_extend;
  const int best = level_ == SimdLevel::Avx2 ? striped_avx2(p, seg_len_, t, tlen, bias_, go, ge, w)
                                             : striped_sse41(p, seg_len_, t, tlen, bias_, go, ge, w);
  // Saturation: the 16-bit lanes may have clipped; redo it exactly.
  if (best + query_->max_score + bias_ >= 65535) return sw_score_reference(*query_, t, tlen, *scoring_);
  return best;
}

}  // namespace esm::align
