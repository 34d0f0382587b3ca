// The CUDA backend against the golden vectors and against itself. Every case skips when no GPU
// is visible, except the one that checks the no-GPU error (which needs a GPU-less machine).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "cuda/cuda_backend.hpp"
#include "encoder/tokenizer.hpp"
#include "gpu_test_util.hpp"

namespace esm::embed::test {
namespace {

OutputRequest everything() {
  OutputRequest r;
  r.layers = {0, 1, 2};
  r.logits = true;
  r.contacts = true;
  return r;
}

OutputRequest layers_and_logits() {
  OutputRequest r;
  r.layers = {0, 1, 2};
  r.logits = true;
  return r;
}

std::unique_ptr<Backend> cuda_backend(CudaPrecision p, int64_t max_tokens = 0) {
  CudaOptions o;
  o.precision = p;
  o.max_tokens = max_tokens;
  return make_cuda_backend(golden_model(), o);
}

TEST(CudaBackend, ClearErrorWithoutGpu) {
  if (visible_gpus() > 0) GTEST_SKIP() << "a GPU is visible";
  try {
    cuda_backend(CudaPrecision::BF16);
    FAIL() << "make_cuda_backend succeeded without a GPU";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no usable GPU"), std::string::npos) << e.what();
  }
}

// fp32 mode (TF32 off) reproduces the golden vectors within 1e-4: every layer, logits, contacts,
// means; the 1100-residue sequence's last layer, logits and top-left contact block.
TEST(CudaBackend, Fp32MatchesGolden) {
  ESM_REQUIRE_GPU();
  expect_matches_golden(cuda_backend(CudaPrecision::FP32)->forward(golden_tokens(), everything()));
}

// bf16 / fp16 (flash attention) against fp32: per-residue cosine of the last layer >= 0.999.
void check_half_precision(CudaPrecision p) {
  const int D = golden_model()->config().hidden, L = golden_model()->config().num_layers;
  auto tokens = golden_tokens();
  auto ref = cuda_backend(CudaPrecision::FP32)->forward(tokens, layers_and_logits());
  auto got = cuda_backend(p)->forward(tokens, layers_and_logits());
  double min_cos = 1.0;
  std::vector<double> max_err(size_t(L) + 1, 0.0);
  for (size_t s = 0; s < tokens.size(); ++s) {
    min_cos = std::min(min_cos, min_row_cosine(got[s].layers[size_t(L)], ref[s].layers[size_t(L)], D));
    for (int l = 0; l <= L; ++l) max_err[size_t(l)] = std::max(max_err[size_t(l)], max_abs_diff(got[s].layers[size_t(l)], ref[s].layers[size_t(l)]));
  }
  std::printf("%s vs fp32: min last-layer cosine %.6f; max abs err per layer:", precision_name(p), min_cos);
  for (double e : max_err) std::printf(" %.3g", e);
  std::printf("\n");
  EXPECT_GE(min_cos, 0.999);
}

TEST(CudaBackend, Bf16CloseToFp32) {
  ESM_REQUIRE_GPU();
  check_half_precision(CudaPrecision::BF16);
}

TEST(CudaBackend, Fp16CloseToFp32) {
  ESM_REQUIRE_GPU();
  check_half_precision(CudaPrecision::FP16);
}

// The contract of Backend: a sequence's results do not depend on the rest of the batch, bitwise.
// Holds on the GPU because every kernel works per row / per sequence and the GEMM algorithm is
// pinned per weight shape (cuda/gemm.hpp).
void check_batch_invariance(CudaPrecision p, const OutputRequest& req) {
  auto tokens = golden_tokens();
  auto backend = cuda_backend(p);
  auto together = backend->forward(tokens, req);
  for (size_t s = 0; s < tokens.size(); ++s) {
    auto alone = backend->forward({tokens[s]}, req);
    EXPECT_TRUE(bitwise_equal(alone[0], together[s])) << precision_name(p) << " sequence " << s;
  }
  // Reversed order, the same again.
  std::vector<std::vector<int32_t>> rev(tokens.rbegin(), tokens.rend());
  auto reversed = backend->forward(rev, req);
  for (size_t s = 0; s < tokens.size(); ++s)
    EXPECT_TRUE(bitwise_equal(reversed[tokens.size() - 1 - s], together[s])) << precision_name(p) << " reversed " << s;
}

TEST(CudaBackend, BatchInvariantFp32) {
  ESM_REQUIRE_GPU();
  check_batch_invariance(CudaPrecision::FP32, everything());
}

TEST(CudaBackend, BatchInvariantBf16) {
  ESM_REQUIRE_GPU();
  check_batch_invariance(CudaPrecision::BF16, layers_and_logits());
  check_batch_invariance(CudaPrecision::BF16, everything());
}

// Small chunks (many uploads / downloads through the double-buffered pipeline) give the same
// bytes as one big chunk.
TEST(CudaBackend, ChunkingInvariant) {
  ESM_REQUIRE_GPU();
  auto tokens = golden_tokens();
  auto one = cuda_backend(CudaPrecision::BF16)->forward(tokens, everything());
  auto many = cuda_backend(CudaPrecision::BF16, 200)->forward(tokens, everything());
  for (size_t s = 0; s < tokens.size(); ++s) EXPECT_TRUE(bitwise_equal(one[s], many[s])) << "sequence " << s;
}

TEST(CudaBackend, Bf16ContactsCloseToFp32) {
  ESM_REQUIRE_GPU();
  auto tokens = golden_tokens();
  auto ref = cuda_backend(CudaPrecision::FP32)->forward(tokens, everything());
  auto got = cuda_backend(CudaPrecision::BF16)->forward(tokens, everything());
  double worst = 0;
  for (size_t s = 0; s < tokens.size(); ++s) worst = std::max(worst, max_abs_diff(got[s].contacts, ref[s].contacts));
  std::printf("bf16 vs fp32 contacts: max abs err %.3g\n", worst);
  EXPECT_LE(worst, 2e-2);
}

TEST(CudaBackend, RejectsMalformedTokens) {
  ESM_REQUIRE_GPU();
  auto backend = cuda_backend(CudaPrecision::BF16);
  EXPECT_THROW(backend->forward({{5, 6, 7}}, layers_and_logits()), Error);  // no cls / eos
  OutputRequest bad;
  bad.layers = {7};
  EXPECT_THROW(backend->forward({{0, 5, 2}}, bad), Error);
}

}  // namespace
}  // namespace esm::embed::test
