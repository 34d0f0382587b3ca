// The CUDA encoder backend: public face. This header needs no CUDA headers, so the CLI and
// make_backend() can include it in every build; make_cuda_backend() itself exists only when
// the build has CUDA (compile definition ESMPIPE_HAVE_CUDA, set by target esm_cuda_api).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "encoder/backend.hpp"
#include "encoder/model.hpp"

namespace esm::embed {

// What `--device cuda` says when this binary was built without the CUDA backend.
inline constexpr const char* kNoCudaBuildMessage =
    "this esmpipe was built without CUDA: --device cuda is not available (rebuild with "
    "-DESMPIPE_CUDA=ON on a machine with nvcc, or use --device cpu)";

#ifdef ESMPIPE_HAVE_CUDA
inline constexpr bool kHaveCudaBuild = true;
#else
inline constexpr bool kHaveCudaBuild = false;
#endif

// Numeric mode of weights and activations. The residual stream, LayerNorm statistics, softmax
// and every GEMM accumulation are fp32 in all modes.
enum class CudaPrecision { BF16, FP16, FP32 };
inline const char* precision_name(CudaPrecision p) {
  return p == CudaPrecision::BF16 ? "bf16" : p == CudaPrecision::FP16 ? "fp16" : "fp32";
}
inline CudaPrecision parse_cuda_precision(const std::string& name) {
  if (name == "bf16") return CudaPrecision::BF16;
  if (name == "fp16") return CudaPrecision::FP16;
  if (name == "fp32") return CudaPrecision::FP32;
  fail("unknown precision '", name, "' (expected bf16, fp16 or fp32)");
}

struct CudaOptions {
  CudaPrecision precision = CudaPrecision::BF16;
  // fp32 mode only: let cuBLAS use TF32 tensor cores (faster, ~1e-3 relative error). Off by
  // default so fp32 mode can be checked against the golden vectors.
  bool allow_tf32 = false;
  // -1: pick by node-local rank (SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK, ...).
  int device = -1;
  // Tokens per forward chunk on the GPU; 0: chosen from free GPU memory after the weights.
  int64_t max_tokens = 0;
  // Megatron tensor parallelism over this many consecutive ranks of the node (NCCL).
  int tensor_parallel = 1;
  // Use cuBLASLt's fused GELU epilogue (tanh approximation) instead of the exact erf GELU
  // kernel. Off by default: ESM-2 uses the erf form.
  bool fused_gelu_epilogue = false;
};

#ifdef ESMPIPE_HAVE_CUDA
// One backend per MPI rank. With tensor_parallel > 1 the call is collective over the world
// (groups of tensor_parallel consecutive ranks on one node), every rank of a group must call
// forward() with the same batch, and all of them return the full outputs.
// Throws esm::Error when no GPU is visible, memory is short (saying what fits), or the
// model cannot be split as asked.
std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model,
                                           const CudaOptions& options);

// Tokens per chunk the backend uses (after the default was resolved); for logs and benchmarks.
int64_t cuda_backend_max_tokens(const Backend& backend);
// Peak device memory (bytes) allocated by the backend since creation (weights included).
uint64_t cuda_backend_peak_bytes(const Backend& backend);
#endif

}  // namespace esm::embed
