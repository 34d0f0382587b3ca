// The CUDA backend's public header in every build (with or without CUDA): option parsing and the
// message `--device cuda` gives when the binary has no CUDA backend.
#include <gtest/gtest.h>

#include <string>

#include "cuda/cuda_backend.hpp"

namespace esm::embed {
namespace {

TEST(CudaApi, ParsesPrecisionNames) {
  EXPECT_EQ(parse_cuda_precision("bf16"), CudaPrecision::BF16);
  EXPECT_EQ(parse_cuda_precision("fp16"), CudaPrecision::FP16);
  EXPECT_EQ(parse_cuda_precision("fp32"), CudaPrecision::FP32);
  EXPECT_STREQ(precision_name(CudaPrecision::BF16), "bf16");
  try {
    parse_cuda_precision("fp8");
    FAIL() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'fp8'"), std::string::npos) << e.what();
  }
}

TEST(CudaApi, DefaultsAreTheValidatedOnes) {
  CudaOptions o;
  EXPECT_EQ(o.precision, CudaPrecision::BF16);
  EXPECT_FALSE(o.allow_tf32);
  EXPECT_FALSE(o.fused_gelu_epilogue);  // exact erf GELU unless asked
  EXPECT_EQ(o.tensor_parallel, 1);
}

TEST(CudaApi, BuildFlagMatchesTheBuild) {
#ifdef ESMPIPE_HAVE_CUDA
  EXPECT_TRUE(kHaveCudaBuild);
#else
  EXPECT_FALSE(kHaveCudaBuild);
  EXPECT_NE(std::string(kNoCudaBuildMessage).find("built without CUDA"), std::string::npos);
#endif
}

}  // namespace
}  // namespace esm::embed
