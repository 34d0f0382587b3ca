// The two vector widths the striped Smith-Waterman kernels are written against (sw_simd.cpp:
// score; sw_simd_trace.cpp: direction bits), as small structs of 16-bit unsigned lane operations.
// Every function carries the target attribute of its ISA, so the rest of the program stays
// baseline x86-64 and the kernels are chosen at run time. Internal to esm_align.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace esm::align::detail {

#define ESM_SSE41 __attribute__((target("sse4.1")))
#define ESM_AVX2 __attribute__((target("avx2")))

// A lane shift's penalty as a 16-bit lane value: subtracting 0xFFFF (saturating) clears a lane,
// which is what a penalty beyond 16 bits does to a value clamped at 0.
inline uint16_t clamp16(int v) { return uint16_t(std::min(v, 0xFFFF)); }

struct Sse41 {
  using T = __m128i;
  static constexpr int lanes = 8;
  ESM_SSE41 static T zero() { return _mm_setzero_si128(); }
  ESM_SSE41 static T set1(uint16_t v) { return _mm_set1_epi16(short(v)); }
  ESM_SSE41 static T load(const T* p) { return _mm_load_si128(p); }
  ESM_SSE41 static void store(T* p, T v) { _mm_store_si128(p, v); }
  ESM_SSE41 static void stream(T* p, T v) { _mm_stream_si128(p, v); }
  ESM_SSE41 static T adds(T a, T b) { return _mm_adds_epu16(a, b); }
  ESM_SSE41 static T subs(T a, T b) { return _mm_subs_epu16(a, b); }
  ESM_SSE41 static T max(T a, T b) { return _mm_max_epu16(a, b); }
  ESM_SSE41 static T min(T a, T b) { return _mm_min_epu16(a, b); }
  ESM_SSE41 static T eq(T a, T b) { return _mm_cmpeq_epi16(a, b); }
  ESM_SSE41 static T at_least(T a, T b) { return _mm_cmpeq_epi16(_mm_max_epu16(a, b), a); }  // a >= b
  ESM_SSE41 static T select(T mask, T yes, T no) { return _mm_blendv_epi8(no, yes, mask); }
  ESM_SSE41 static T or_(T a, T b) { return _mm_or_si128(a, b); }
  ESM_SSE41 static T and_(T a, T b) { return _mm_and_si128(a, b); }
  ESM_SSE41 static T shift_up(T a) { return _mm_slli_si128(a, 2); }
  // out[k] = max over d >= 0 of a[k - d] - d * step (saturating): a value carried down the lanes,
  // losing `step` per lane, in log2(lanes) shift-and-max steps.
  ESM_SSE41 static T carry_scan(T a, int step) {
    a = max(a, subs(_mm_slli_si128(a, 2), set1(clamp16(step))));
    a = max(a, subs(_mm_slli_si128(a, 4), set1(clamp16(2 * step))));
    return max(a, subs(_mm_slli_si128(a, 8), set1(clamp16(4 * step))));
  }
  // The low byte of every lane (values < 256), as `lanes` consecutive bytes.
  ESM_SSE41 static void store_bytes(uint8_t* p, T v) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(v, v));
  }
  // Bit 2k (and 2k + 1) set where lane k of a 0/-1 mask is set.
  ESM_SSE41 static uint32_t lane_bits(T mask) { return uint32_t(_mm_movemask_epi8(mask)); }
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
  ESM_AVX2 static void stream(T* p, T v) { _mm256_stream_si256(p, v); }
  ESM_AVX2 static T adds(T a, T b) { return _mm256_adds_epu16(a, b); }
  ESM_AVX2 static T subs(T a, T b) { return _mm256_subs_epu16(a, b); }
  ESM_AVX2 static T max(T a, T b) { return _mm256_max_epu16(a, b); }
  ESM_AVX2 static T min(T a, T b) { return _mm256_min_epu16(a, b); }
  ESM_AVX2 static T eq(T a, T b) { return _mm256_cmpeq_epi16(a, b); }
  ESM_AVX2 static T at_least(T a, T b) { return _mm256_cmpeq_epi16(_mm256_max_epu16(a, b), a); }
  ESM_AVX2 static T select(T mask, T yes, T no) { return _mm256_blendv_epi8(no, yes, mask); }
  ESM_AVX2 static T or_(T a, T b) { return _mm256_or_si256(a, b); }
  ESM_AVX2 static T and_(T a, T b) { return _mm256_and_si256(a, b); }
  // Lane k -> k+1 across the two 128-bit halves: [0, lo] then byte-align with the input.
  ESM_AVX2 static T shift_up(T a) {
    return _mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 14);
  }
  // As Sse41::carry_scan; the shifts by 1, 2, 4 lanes cross the halves as shift_up does, the
  // shift by 8 is the [0, lo] permute itself.
  ESM_AVX2 static T carry_scan(T a, int step) {
    a = max(a, subs(shift_up(a), set1(clamp16(step))));
    a = max(a, subs(_mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 12), set1(clamp16(2 * step))));
    a = max(a, subs(_mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 8), set1(clamp16(4 * step))));
    return max(a, subs(_mm256_permute2x128_si256(a, a, 0x08), set1(clamp16(8 * step))));
  }
  // packus works within 128-bit halves: bytes of lanes 0-7 land in qword 0, lanes 8-15 in
  // qword 2; the permute brings them together.
  ESM_AVX2 static void store_bytes(uint8_t* p, T v) {
    const T packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
  }
  ESM_AVX2 static uint32_t lane_bits(T mask) { return uint32_t(_mm256_movemask_epi8(mask)); }
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

}  // namespace esm::align::detail
