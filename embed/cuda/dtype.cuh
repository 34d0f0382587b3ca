// Device-side conversions between the activation types and fp32 (all arithmetic is fp32).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace esm::embed::cuda {

__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f32<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

}  // namespace esm::embed::cuda

// Calls F<T>(...) with T the C++ type of a DType value.
#define ESM_DISPATCH_DTYPE(dt, T, ...)                                   \
  do {                                                                   \
    switch (dt) {                                                        \
      case DType::F32: { using T = float; __VA_ARGS__; } break;          \
      case DType::F16: { using T = __half; __VA_ARGS__; } break;         \
      case DType::BF16: { using T = __nv_bfloat16; __VA_ARGS__; } break; \
    }                                                                    \
  } while (0)
