// CUDA / cuBLASLt / NCCL status checks that turn failures into esm::Error with the call site.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "core/error.hpp"

namespace esm::embed::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas_error(int status, const char* what, const char* file, int line);

}  // namespace esm::embed::cuda

#define ESM_CUDA_CHECK(call)                                                          \
  do {                                                                                \
    cudaError_t esm_err_ = (call);                                                    \
    if (esm_err_ != cudaSuccess)                                                      \
      ::esm::embed::cuda::throw_cuda_error(esm_err_, #call, __FILE__, __LINE__);      \
  } while (0)

#define ESM_CUBLAS_CHECK(call)                                                        \
  do {                                                                                \
    int esm_st_ = static_cast<int>(call);                                             \
    if (esm_st_ != 0) ::esm::embed::cuda::throw_cublas_error(esm_st_, #call, __FILE__, __LINE__); \
  } while (0)
