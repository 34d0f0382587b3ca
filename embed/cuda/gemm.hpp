// Linear layers through cuBLASLt: Y[T, out] = X[T, in] · W[out, in]ᵀ (+ bias) (+ Y), row-major
// as the model stores them, with the bias / GELU / residual fused into the GEMM epilogue.
//
// Batch invariance: a sequence's rows must not change with the other rows of the batch. The
// algorithm is therefore chosen once per weight shape (for `pinned_rows` rows, without split-K
// reductions) and reused for every row count it accepts (cublasLtMatmulAlgoCheck); each output
// element is then reduced in the same order whatever the row count. A row count the pinned
// algorithm rejects falls back to a per-shape heuristic and is counted in unpinned_calls().
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <tuple>

#include "cuda/device_buffer.hpp"
#include "cuda/kernels.hpp"

namespace esm::embed::cuda {

enum class Epilogue { None, Bias, BiasGelu };

class Gemm {
 public:
  // fp32 GEMMs use TF32 tensor cores only when allow_tf32.
  Gemm(bool allow_tf32, int pinned_rows, MemoryCounter* memory, size_t workspace_bytes = 32u << 20);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // Y = X Wᵀ (+ bias) (+ beta * Y). X and W share type `in`; Y and bias have type `outt`.
  // accumulate (beta = 1) adds into Y in place: the residual connection.
  void linear(const void* X, const void* W, DType in, int rows, int in_features, int out_features,
              void* Y, DType outt, const void* bias, Epilogue ep, bool accumulate, cudaStream_t s);

  size_t workspace_bytes() const { return workspace_bytes_; }
  uint64_t unpinned_calls() const { return unpinned_calls_; }

 private:
  using ShapeKey = std::tuple<int, int, int, int, int, bool>;  // m, k, in, out, epilogue, accumulate
  using CallKey = std::tuple<ShapeKey, int>;                    // + rows
  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer workspace_;
  size_t workspace_bytes_;
  bool allow_tf32_;
  int pinned_rows_;
  uint64_t unpinned_calls_ = 0;
  std::map<ShapeKey, cublasLtMatmulAlgo_t> pinned_;
  std::map<CallKey, std::pair<cublasLtMatmulAlgo_t, bool>> chosen_;  // algo, pinned?
};

}  // namespace esm::embed::cuda
