#include "encoder/fast_math.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

// Built for AVX-512, AVX2 and baseline x86-64; the loader picks one at run time. The loops are
// written so the compiler vectorizes them without reassociating anything (no -ffast-math):
// every element and every partial sum is computed in an order fixed by the row length alone.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ESM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ESM_CLONES
#endif

namespace esm::embed {

namespace {

constexpr int kLanes = 16;  // independent partial sums per row

// exp(x) for x <= 0 (softmax after subtracting the row max), about 1 ulp: x = n ln2 + r with
// |r| <= ln2/2, e^r by its Taylor series to r^7 (truncation < 1e-8 relative), then 2^n by
// building the exponent bits. Inputs below -87 give exp(-87) ~ 1.6e-38 instead of a subnormal;
// against a row sum >= 1 that is zero.
inline float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float t = x * 1.44269504088896341f + shifter;
  float n = t - shifter;
  float r = x - n * 0.693145751953125f;  // ln2 split in two so n * hi is exact
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

}  // namespace

ESM_CLONES void gelu_inplace(float* z, size_t n) {
  for (size_t i = 0; i < n; ++i) z[i] = 0.5f * z[i] * (1.0f + std::erf(z[i] * 0.70710678118654752f));
}

ESM_CLONES void softmax_inplace(float* row, size_t n) {
  float mx[kLanes];
  for (int j = 0; j < kLanes; ++j) mx[j] = -INFINITY;
  size_t full = n / kLanes * kLanes;
  for (size_t i = 0; i < full; i += kLanes)
    for (int j = 0; j < kLanes; ++j) mx[j] = std::max(mx[j], row[i + size_t(j)]);
  float m = -INFINITY;
  for (int j = 0; j < kLanes; ++j) m = std::max(m, mx[j]);
  for (size_t i = full; i < n; ++i) m = std::max(m, row[i]);

  float acc[kLanes] = {};
  for (size_t i = 0; i < full; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      float e = exp_nonpositive(row[i + size_t(j)] - m);
      row[i + size_t(j)] = e;
      acc[j] += e;
    }
  double sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += acc[j];
  for (size_t i = full; i < n; ++i) sum += (row[i] = exp_nonpositive(row[i] - m));
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) row[i] *= inv;
}

}  // namespace esm::embed
