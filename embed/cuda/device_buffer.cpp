#include "cuda/device_buffer.hpp"

#include "core/error.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/device.hpp"

namespace esm::embed::cuda {

DeviceBuffer::DeviceBuffer(size_t bytes, MemoryCounter* counter, const char* what) { ensure(bytes, counter, what); }

void DeviceBuffer::reset() {
  if (ptr_) {
    cudaFree(ptr_);
    if (counter_) counter_->current -= bytes_;
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

void DeviceBuffer::ensure(size_t bytes, MemoryCounter* counter, const char* what) {
  if (bytes <= bytes_ && ptr_) return;
  reset();
  if (bytes == 0) return;
  cudaError_t e = cudaMalloc(&ptr_, bytes);
  if (e != cudaSuccess) {
    ptr_ = nullptr;
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    fail("GPU out of memory: ", what, " needs ", format_bytes(bytes), " but only ", format_bytes(free_b), " of ",
         format_bytes(total_b), " are free", counter ? " (esmpipe holds " + format_bytes(counter->current) + ")" : "");
  }
  bytes_ = bytes;
  counter_ = counter;
  if (counter_) {
    counter_->current += bytes;
    if (counter_->current > counter_->peak) counter_->peak = counter_->current;
  }
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

void PinnedBuffer::ensure(size_t bytes) {
  if (bytes <= bytes_ && ptr_) return;
  if (ptr_) cudaFreeHost(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
  ESM_CUDA_CHECK(cudaMallocHost(&ptr_, bytes));
  bytes_ = bytes;
}

}  // namespace esm::embed::cuda
