// The vectors the striped Smith-Waterman kernels are written against, as small structs of lane
// operations: 16-bit unsigned saturating lanes (Sse41, Avx2: sw_simd.cpp's score, sw_simd_trace.cpp's
// H fill) and 32-bit lanes with the same clamped-at-0 semantics (Sse41x32, Avx2x32:
// sw_wide_trace.cpp, for scores past 16 bits). Every function carries the target attribute of its
// ISA, so the rest of the program stays baseline x86-64 and the kernels are chosen at run time.
// Internal to esm_align.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace esm::align::detail {

#define ESM_SSE41 __attribute__((target("sse4.1")))
#define ESM_AVX2 __attribute__((target("avx2")))

// A lane shift's penalty as a 16-bit lane value: subtracting 0xFFFF (saturating) clears a lane,
// which is what a penalty beyond 16 bits does to a value clamped at 0.
inline uint16_t clamp16(int v) { return uint16_t(std::min(v, 0xFFFF)); }

// first_row(col, seg_len, value): the first row, in query order (row = lane * seg_len + segment),
// of a striped column holding `value`; INT32_MAX if none. Expanded inside each struct, in terms of
// its own eq / lane_bits (which give `lane_bytes` mask bits per lane), so it carries its ATTR.
#define ESM_FIRST_ROW(ATTR)                                                            \
  ATTR static int first_row(const T* col, int seg_len, int value) {                    \
    const T v = set1(value);                                                           \
    T any = zero();                                                                    \
    for (int s = 0; s < seg_len; ++s) any = or_(any, eq(load(col + s), v));           \
    const uint32_t bits = lane_bits(any);                                              \
    if (!bits) return INT32_MAX;                                                       \
    const int lane = __builtin_ctz(bits) / lane_bytes;                                 \
    int seg = 0;                                                                       \
    while (!((lane_bits(eq(load(col + seg), v)) >> (lane_bytes * lane)) & 1)) ++seg;   \
    return lane * seg_len + seg;                                                       \
  }

struct Sse41 {
  using T = __m128i;
  static constexpr int lanes = 8, lane_bytes = 2;
  ESM_SSE41 static T zero() { return _mm_setzero_si128(); }
  ESM_SSE41 static T set1(int v) { return _mm_set1_epi16(short(v)); }
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
  ESM_FIRST_ROW(ESM_SSE41)
};

struct Avx2 {
  using T = __m256i;
  static constexpr int lanes = 16, lane_bytes = 2;
  ESM_AVX2 static T zero() { return _mm256_setzero_si256(); }
  ESM_AVX2 static T set1(int v) { return _mm256_set1_epi16(short(v)); }
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
  ESM_FIRST_ROW(ESM_AVX2)
};

// 32-bit lanes holding values >= 0. subs clamps at 0 as the 16-bit unsigned lanes do, so the
// kernels' exactness arguments carry over unchanged; adds cannot overflow (a protein score is far
// below 2^31). at_least / any_gt compare signed, which is the same for values >= 0.
struct Sse41x32 {
  using T = __m128i;
  static constexpr int lanes = 4, lane_bytes = 4;
  ESM_SSE41 static T zero() { return _mm_setzero_si128(); }
  ESM_SSE41 static T set1(int v) { return _mm_set1_epi32(v); }
  ESM_SSE41 static T load(const T* p) { return _mm_load_si128(p); }
  ESM_SSE41 static void store(T* p, T v) { _mm_store_si128(p, v); }
  ESM_SSE41 static T adds(T a, T b) { return _mm_add_epi32(a, b); }
  ESM_SSE41 static T subs(T a, T b) { return _mm_max_epi32(_mm_sub_epi32(a, b), _mm_setzero_si128()); }
  ESM_SSE41 static T max(T a, T b) { return _mm_max_epi32(a, b); }
  ESM_SSE41 static T eq(T a, T b) { return _mm_cmpeq_epi32(a, b); }
  ESM_SSE41 static T at_least(T a, T b) { return _mm_cmpeq_epi32(_mm_max_epi32(a, b), a); }
  ESM_SSE41 static T select(T mask, T yes, T no) { return _mm_blendv_epi8(no, yes, mask); }
  ESM_SSE41 static T or_(T a, T b) { return _mm_or_si128(a, b); }
  ESM_SSE41 static T and_(T a, T b) { return _mm_and_si128(a, b); }
  ESM_SSE41 static T shift_up(T a) { return _mm_slli_si128(a, 4); }
  ESM_SSE41 static T shl4(T a) { return _mm_slli_epi32(a, 4); }  // each lane's value x 16
  ESM_SSE41 static T carry_scan(T a, int step) {
    a = max(a, subs(_mm_slli_si128(a, 4), set1(step)));
    return max(a, subs(_mm_slli_si128(a, 8), set1(2 * step)));
  }
  // Lanes (values < 256) as 4 consecutive bytes.
  ESM_SSE41 static void store_bytes(uint8_t* p, T v) {
    const int packed = _mm_cvtsi128_si32(_mm_packus_epi16(_mm_packus_epi32(v, v), v));
    __builtin_memcpy(p, &packed, 4);
  }
  ESM_SSE41 static uint32_t lane_bits(T mask) { return uint32_t(_mm_movemask_epi8(mask)); }
  ESM_SSE41 static bool any_gt(T a, T b) { const T g = _mm_cmpgt_epi32(a, b); return !_mm_testz_si128(g, g); }
  ESM_SSE41 static int hmax(T v) {
    v = _mm_max_epi32(v, _mm_shuffle_epi32(v, 0x4E));
    return _mm_cvtsi128_si32(_mm_max_epi32(v, _mm_shuffle_epi32(v, 0xB1)));
  }
  ESM_FIRST_ROW(ESM_SSE41)
};

struct Avx2x32 {
  using T = __m256i;
  static constexpr int lanes = 8, lane_bytes = 4;
  ESM_AVX2 static T zero() { return _mm256_setzero_si256(); }
  ESM_AVX2 static T set1(int v) { return _mm256_set1_epi32(v); }
  ESM_AVX2 static T load(const T* p) { return _mm256_load_si256(p); }
  ESM_AVX2 static void store(T* p, T v) { _mm256_store_si256(p, v); }
  ESM_AVX2 static T adds(T a, T b) { return _mm256_add_epi32(a, b); }
  ESM_AVX2 static T subs(T a, T b) { return _mm256_max_epi32(_mm256_sub_epi32(a, b), _mm256_setzero_si256()); }
  ESM_AVX2 static T max(T a, T b) { return _mm256_max_epi32(a, b); }
  ESM_AVX2 static T eq(T a, T b) { return _mm256_cmpeq_epi32(a, b); }
  ESM_AVX2 static T at_least(T a, T b) { return _mm256_cmpeq_epi32(_mm256_max_epi32(a, b), a); }
  ESM_AVX2 static T select(T mask, T yes, T no) { return _mm256_blendv_epi8(no, yes, mask); }
  ESM_AVX2 static T or_(T a, T b) { return _mm256_or_si256(a, b); }
  ESM_AVX2 static T and_(T a, T b) { return _mm256_and_si256(a, b); }
  // Lane k -> k+1 (4 bytes) across the halves, as Avx2::shift_up.
  ESM_AVX2 static T shift_up(T a) { return _mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 12); }
  ESM_AVX2 static T shl4(T a) { return _mm256_slli_epi32(a, 4); }
  ESM_AVX2 static T carry_scan(T a, int step) {
    a = max(a, subs(shift_up(a), set1(step)));
    a = max(a, subs(_mm256_alignr_epi8(a, _mm256_permute2x128_si256(a, a, 0x08), 8), set1(2 * step)));
    return max(a, subs(_mm256_permute2x128_si256(a, a, 0x08), set1(4 * step)));
  }
  // The two packs work within 128-bit halves: lanes 0-3 end in the low half's first dword,
  // lanes 4-7 in the high half's.
  ESM_AVX2 static void store_bytes(uint8_t* p, T v) {
    const T b = _mm256_packus_epi16(_mm256_packus_epi32(v, v), v);
    const __m128i two = _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), two);
  }
  ESM_AVX2 static uint32_t lane_bits(T mask) { return uint32_t(_mm256_movemask_epi8(mask)); }
  ESM_AVX2 static bool any_gt(T a, T b) { const T g = _mm256_cmpgt_epi32(a, b); return !_mm256_testz_si256(g, g); }
  ESM_AVX2 static int hmax(T v) {
    __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    return _mm_cvtsi128_si32(_mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1)));
  }
  ESM_FIRST_ROW(ESM_AVX2)
};

}  // namespace esm::align::detail
