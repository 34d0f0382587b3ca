// GPU test helpers: skip when no GPU is visible, golden cases, comparisons.
#pragma once
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "encoder/backend.hpp"
#include "golden_outputs.hpp"

namespace esm::embed::test {

inline int visible_gpus() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

#define ESM_REQUIRE_GPU()                                                             \
  do {                                                                                \
    if (::esm::embed::test::visible_gpus() == 0) GTEST_SKIP() << "no GPU visible"; \
  } while (0)

// Smallest cosine similarity between matching rows of two [rows, width] arrays.
inline double min_row_cosine(const std::vector<float>& a, const std::vector<float>& b, int width) {
  double worst = 1.0;
  for (size_t r = 0; r + width <= a.size(); r += size_t(width)) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < width; ++i) {
      ab += double(a[r + i]) * b[r + i];
      aa += double(a[r + i]) * a[r + i];
      bb += double(b[r + i]) * b[r + i];
    }
    double c = ab / std::sqrt(aa * bb);
    if (!(c >= worst)) worst = c;
  }
  return worst;
}

inline bool bitwise_equal(const SequenceOutput& a, const SequenceOutput& b) {
  auto same = [](const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * 4) == 0);
  };
  if (a.n != b.n || a.layers.size() != b.layers.size()) return false;
  for (size_t l = 0; l < a.layers.size(); ++l)
    if (!same(a.layers[l], b.layers[l]) || !same(a.means[l], b.means[l])) return false;
  return same(a.logits, b.logits) && same(a.contacts, b.contacts);
}

}  // namespace esm::embed::test
