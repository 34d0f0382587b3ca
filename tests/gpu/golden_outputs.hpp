// Golden-vector checks shared by the tensor-parallel (CPU) and CUDA backend tests: the golden
// model and tokens, and the comparison of a backend's outputs for TEST01..TEST09 with the files a
// reference implementation we did not write produced. CUDA-free, so the CPU test can use it.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "encoder/backend.hpp"
#include "encoder/model.hpp"
#include "encoder/tokenizer.hpp"
#include "test_util.hpp"

namespace esm::embed::test {

inline std::shared_ptr<const Model> golden_model() {
  static std::shared_ptr<const Model> m = Model::load(golden_dir());
  return m;
}

inline std::vector<std::vector<int32_t>> golden_tokens() {
  std::vector<std::vector<int32_t>> v;
  for (int i = 1; i <= 9; ++i) v.push_back(read_npy(golden_dir() + str("/TEST0", i, ".tokens.npy")).tokens());
  return v;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= m)) m = d;  // NaN propagates as the worst
  }
  return m;
}

// out: the backend's outputs for golden_tokens() with layers {0..L}, logits and contacts. Every
// layer, contacts, logits and the last layer's mean within all_close's 1e-4; for TEST09 (1100
// residues, only its last layer and top-left contact block are stored) those two.
inline void expect_matches_golden(const std::vector<SequenceOutput>& out) {
  const int D = golden_model()->config().hidden, L = golden_model()->config().num_layers;
  ASSERT_EQ(out.size(), 9u);
  for (int i = 1; i <= 9; ++i) {
    const SequenceOutput& o = out[size_t(i - 1)];
    const std::string p = golden_dir() + str("/TEST0", i);
    const int n = o.n;
    if (i < 9) {
      std::vector<float> repr = read_npy(p + ".repr.npy").f32();  // [L+1, n+2, D]
      for (int l = 0; l <= L; ++l) {
        const size_t off = size_t(l) * (n + 2) * D + D;
        std::vector<float> want(repr.begin() + long(off), repr.begin() + long(off + size_t(n) * D));
        EXPECT_TRUE(all_close(o.layers[size_t(l)], want)) << "TEST0" << i << " layer " << l;
      }
      EXPECT_TRUE(all_close(o.contacts, read_npy(p + ".contacts.npy").f32())) << "TEST0" << i << " contacts";
    } else {
      std::vector<float> last = read_npy(p + ".last.npy").f32();  // [n+2, D]
      std::vector<float> want(last.begin() + D, last.begin() + long(size_t(n + 1) * D));
      EXPECT_TRUE(all_close(o.layers[size_t(L)], want)) << "TEST09 last layer";
      std::vector<float> block = read_npy(p + ".contacts_block.npy").f32();  // [128, 128]
      std::vector<float> got(128 * 128);
      for (int r = 0; r < 128; ++r)
        std::copy(o.contacts.begin() + long(size_t(r) * n), o.contacts.begin() + long(size_t(r) * n + 128),
                  got.begin() + r * 128);
      EXPECT_TRUE(all_close(got, block)) << "TEST09 contact block";
    }
    std::vector<float> logits = read_npy(p + ".logits.npy").f32();  // [n+2, 33]
    std::vector<float> want_logits(logits.begin() + kVocab, logits.begin() + long(size_t(n + 1) * kVocab));
    EXPECT_TRUE(all_close(o.logits, want_logits)) << "TEST0" << i << " logits";
    EXPECT_TRUE(all_close(o.means[size_t(L)], read_npy(p + ".mean.npy").f32())) << "TEST0" << i << " mean";
  }
}

}  // namespace esm::embed::test
