#include "cuda/gemm.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "cuda/cuda_check.hpp"

namespace esm::embed::cuda {

namespace {

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::F32: return CUDA_R_32F;
    case DType::F16: return CUDA_R_16F;
    case DType::BF16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

// RAII holders so an error thrown mid-call leaks no descriptors.
struct MatmulDesc {
  cublasLtMatmulDesc_t d = nullptr;
  ~MatmulDesc() { if (d) cublasLtMatmulDescDestroy(d); }
};
struct Layout {
  cublasLtMatrixLayout_t l = nullptr;
  ~Layout() { if (l) cublasLtMatrixLayoutDestroy(l); }
};
struct Preference {
  cublasLtMatmulPreference_t p = nullptr;
  ~Preference() { if (p) cublasLtMatmulPreferenceDestroy(p); }
};

}  // namespace

Gemm::Gemm(bool allow_tf32, int pinned_rows, MemoryCounter* memory, size_t workspace_bytes)
    : workspace_(workspace_bytes, memory, "cuBLASLt workspace"), workspace_bytes_(workspace_bytes),
      allow_tf32_(allow_tf32), pinned_rows_(pinned_rows) {
  ESM_CUBLAS_CHECK(cublasLtCreate(&handle_));
}

Gemm::~Gemm() {
  if (handle_) cublasLtDestroy(handle_);
}

void Gemm::linear(const void* X, const void* W, DType in, int rows, int in_features, int out_features, void* Y,
                  DType outt, const void* bias, Epilogue ep, bool accumulate, cudaStream_t s) {
  if (rows == 0) return;
  // cuBLAS is column-major: the row-major Y[rows, out] is the column-major Yᵀ[out, rows], so
  // compute Yᵀ = W · Xᵀ with W (row-major [out, in] = column-major [in, out]) transposed.
  const int m = out_features, n = rows, k = in_features;
  const bool fp32 = in == DType::F32;
  const cublasComputeType_t compute =
      fp32 ? (allow_tf32_ ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F) : CUBLAS_COMPUTE_32F;

  MatmulDesc op;
  ESM_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op.d, compute, CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  ESM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op.d, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  ESM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op.d, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
  if (ep == Epilogue::Bias) epi = CUBLASLT_EPILOGUE_BIAS;
  if (ep == Epilogue::BiasGelu) epi = CUBLASLT_EPILOGUE_GELU_BIAS;
  ESM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op.d, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
  if (ep != Epilogue::None) {
    if (!bias) fail("internal: GEMM bias epilogue without a bias");
    ESM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op.d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }

  Layout a, b, c;
  ESM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a.l, cuda_type(in), k, m, k));  // W as stored
  ESM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b.l, cuda_type(in), k, n, k));  // X as stored
  ESM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&c.l, cuda_type(outt), m, n, m));

  const ShapeKey shape{m, k, static_cast<int>(in), static_cast<int>(outt), static_cast<int>(ep), accumulate};
  auto heuristic = [&](int rows_for) {
    Layout bx, cy;
    ESM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&bx.l, cuda_type(in), k, rows_for, k));
    ESM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&cy.l, cuda_type(outt), m, rows_for, m));
    Preference pref;
    ESM_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref.p));
    ESM_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &workspace_bytes_, sizeof(workspace_bytes_)));
    // No split-K reductions: their partial-sum order depends on the problem size.
    const uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_NONE;
    ESM_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.p, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                                          &schemes, sizeof(schemes)));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    ESM_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle_, op.d, a.l, bx.l, cy.l, cy.l, pref.p, 1, &result, &found));
    if (found == 0)
      fail("cuBLASLt has no algorithm for a ", m, "x", rows_for, "x", k, " GEMM (input type ",
           static_cast<int>(in), ", output type ", static_cast<int>(outt), ")");
    return result.algo;
  };
  auto chosen = chosen_.find(CallKey{shape, n});
  if (chosen == chosen_.end()) {
    auto pin = pinned_.find(shape);
    if (pin == pinned_.end()) pin = pinned_.emplace(shape, heuristic(std::max(pinned_rows_, n))).first;
    cublasLtMatmulHeuristicResult_t check{};
    bool ok = cublasLtMatmulAlgoCheck(handle_, op.d, a.l, b.l, c.l, c.l, &pin->second, &check) ==
                  CUBLAS_STATUS_SUCCESS &&
              check.workspaceSize <= workspace_bytes_;
    chosen = chosen_.emplace(CallKey{shape, n}, std::make_pair(ok ? pin->second : heuristic(n), ok)).first;
  }
  if (!chosen->second.second) ++unpinned_calls_;
  const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
  ESM_CUBLAS_CHECK(cublasLtMatmul(handle_, op.d, &alpha, W, a.l, X, b.l, &beta, Y, c.l, Y, c.l, &chosen->second.first,
                                  workspace_.get(), workspace_bytes_, s));
}

}  // namespace esm::embed::cuda
