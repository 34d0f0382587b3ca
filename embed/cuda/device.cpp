#include "cuda/device.hpp"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "cuda/cuda_check.hpp"

namespace esm::embed::cuda {

std::string format_bytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

void throw_cuda_error(cudaError_t e, const char* what, const char* file, int line) {
  if (e == cudaErrorMemoryAllocation) {
    size_t free_b = 0, total_b = 0;
    cudaGetLastError();
    cudaMemGetInfo(&free_b, &total_b);
    fail("GPU out of memory in ", what, " (", file, ":", line, "); ", format_bytes(free_b), " of ",
         format_bytes(total_b), " free; lower --max-tokens or use --tensor-parallel");
  }
  fail("CUDA error ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ") in ", what, " at ", file, ":", line);
}

void throw_cublas_error(int status, const char* what, const char* file, int line) {
  fail("cuBLASLt error ", status, " in ", what, " at ", file, ":", line);
}

DeviceInfo select_device(int requested, int local_rank) {
  DeviceInfo info;
  cudaError_t e = cudaGetDeviceCount(&info.count);
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  std::string vis = visible ? std::string(" (CUDA_VISIBLE_DEVICES=") + visible + ")" : "";
  if (e != cudaSuccess || info.count == 0)
    fail("--device cuda: no usable GPU on this node", vis, ": ",
         e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount returned 0",
         "; run on a GPU node or use --device cpu");
  if (requested >= 0) {
    if (requested >= info.count) fail("--gpu ", requested, ": only ", info.count, " GPU(s) visible", vis);
    info.index = requested;
  } else if (info.count == 1) {
    info.index = 0;
  } else if (local_rank < info.count) {
    info.index = local_rank;
  } else {
    fail("node-local rank ", local_rank, " has no GPU of its own: ", info.count, " GPUs visible", vis,
         "; start at most ", info.count, " ranks per node (one per GPU)");
  }
  ESM_CUDA_CHECK(cudaSetDevice(info.index));
  cudaDeviceProp prop{};
  ESM_CUDA_CHECK(cudaGetDeviceProperties(&prop, info.index));
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  if (prop.major < 8)
    fail("GPU ", info.index, " (", info.name, ", compute capability ", prop.major, ".", prop.minor,
         ") is not supported: the CUDA backend needs compute capability 8.0 or newer (A100, H100)");
  size_t free_b = 0, total_b = 0;
  ESM_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  info.free_bytes = free_b;
  info.total_bytes = total_b;
  return info;
}

}  // namespace esm::embed::cuda
