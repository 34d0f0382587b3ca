// The encoder's small fused kernels: embedding + token dropout, LayerNorm, QKV split + rotary +
// query scale, exact GELU, conversions, output gathering, per-sequence means, contact head.
// One thread (or warp) per output element or row; all arithmetic in fp32.
#include <cuda_runtime.h>

#include "cuda/cuda_check.hpp"
#include "cuda/dtype.cuh"
#include "cuda/kernels.hpp"

namespace esm::embed::cuda {

namespace {

constexpr int kMaskToken = 32;
constexpr float kTrainMaskKeep = 0.88f;  // 1 - 0.15 * 0.8 (fair-esm ESM2.forward)

unsigned blocks_for(size_t n, unsigned threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

void check_launch() { ESM_CUDA_CHECK(cudaGetLastError()); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void embed_kernel(const float* __restrict__ table, int D, const int32_t* __restrict__ tokens,
                             const int32_t* __restrict__ token_seq, const float* __restrict__ denom,
                             bool token_dropout, int T, float* __restrict__ x) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(T) * D) return;
  int t = static_cast<int>(i / D), d = static_cast<int>(i % D);
  int tok = tokens[t];
  float v = table[static_cast<size_t>(tok) * D + d];
  if (token_dropout) {
    // Same order of operations as the reference: zero masks, times 0.88, divided by (1 - r).
    v = tok == kMaskToken ? 0.f : (v * kTrainMaskKeep) / denom[token_seq[t]];
  }
  x[i] = v;
}

// One warp per row; two passes over the row (mean, then centred variance) for accuracy.
template <typename T>
__global__ void layer_norm_kernel(const float* __restrict__ x, int rows, int D, const float* __restrict__ g,
                                  const float* __restrict__ b, float eps, T* __restrict__ y) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + static_cast<size_t>(row) * D;
  float s = 0.f;
  for (int i = lane; i < D; i += 32) s += xr[i];
  float mean = warp_sum(s) / D;
  float ss = 0.f;
  for (int i = lane; i < D; i += 32) {
    float c = xr[i] - mean;
    ss += c * c;
  }
  float inv = 1.f / sqrtf(warp_sum(ss) / D + eps);
  T* yr = y + static_cast<size_t>(row) * D;
  for (int i = lane; i < D; i += 32) yr[i] = from_f32<T>((xr[i] - mean) * inv * g[i] + b[i]);
}

// One thread per (token, local head, i < hd/2): handles the rotary pair (i, i + hd/2) of q and k
// and copies the same two features of v.
template <typename T>
__global__ void qkv_rotary_kernel(const T* __restrict__ qkv, const int32_t* __restrict__ positions, int T_,
                                  int Hl, int hd, const float* __restrict__ inv_freq, float q_scale,
                                  T* __restrict__ q, T* __restrict__ k, T* __restrict__ v) {
  const int half = hd / 2;
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(T_) * Hl * half) return;
  int j = static_cast<int>(i % half);
  int h = static_cast<int>((i / half) % Hl);
  int t = static_cast<int>(i / (static_cast<size_t>(half) * Hl));
  const int Dl = Hl * hd;
  const T* row = qkv + static_cast<size_t>(t) * 3 * Dl + h * hd;
  // The angle is rounded to fp32 like the reference's fp32 table (p * inv_freq); sin/cos of that
  // value are taken in double so large positions keep full accuracy.
  float angle = static_cast<float>(positions[t]) * inv_freq[j];
  double sd, cd;
  sincos(static_cast<double>(angle), &sd, &cd);
  float sn = static_cast<float>(sd), cs = static_cast<float>(cd);
  size_t out = (static_cast<size_t>(h) * T_ + t) * hd;
  float q1 = to_f32(row[j]) * q_scale, q2 = to_f32(row[j + half]) * q_scale;
  q[out + j] = from_f32<T>(q1 * cs - q2 * sn);
  q[out + j + half] = from_f32<T>(q2 * cs + q1 * sn);
  float k1 = to_f32(row[Dl + j]), k2 = to_f32(row[Dl + j + half]);
  k[out + j] = from_f32<T>(k1 * cs - k2 * sn);
  k[out + j + half] = from_f32<T>(k2 * cs + k1 * sn);
  v[out + j] = row[2 * Dl + j];
  v[out + j + half] = row[2 * Dl + j + half];
}

template <typename T>
__global__ void gelu_kernel(T* x, size_t n) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  float z = to_f32(x[i]);
  x[i] = from_f32<T>(0.5f * z * (1.f + erff(z * 0.70710678118654752f)));
}

template <typename T>
__global__ void convert_kernel(const float* __restrict__ src, T* __restrict__ dst, size_t n) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) dst[i] = from_f32<T>(src[i]);
}

__global__ void gather_kernel(const float* __restrict__ src, int ld, int cols,
                              const int32_t* __restrict__ residue_token, int R, float* __restrict__ dst) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(R) * cols) return;
  int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
  dst[i] = src[static_cast<size_t>(residue_token[r]) * ld + c];
}

// grid (column blocks, sequences): one thread per column sums its sequence's rows in order.
__global__ void means_kernel(const float* __restrict__ rows, int D, const int32_t* __restrict__ cu_residues,
                             float* __restrict__ means) {
  int b = blockIdx.y;
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= D) return;
  int r0 = cu_residues[b], r1 = cu_residues[b + 1];
  double s = 0.0;
  for (int r = r0; r < r1; ++r) s += rows[static_cast<size_t>(r) * D + c];
  means[static_cast<size_t>(b) * D + c] = r1 > r0 ? static_cast<float>(s / (r1 - r0)) : 0.f;
}

// Contacts, step 1: one warp per (residue i, local head h): rowsum of S = A + Aᵀ over the
// residue block (tokens 1..n of the sequence; cls and eos dropped).
__global__ void contact_rowsum_kernel(const float* __restrict__ probs, const int32_t* __restrict__ residue_seq,
                                      const int32_t* __restrict__ cu_residues,
                                      const int32_t* __restrict__ cu_seqlens,
                                      const int64_t* __restrict__ cu_sq, int R, int Hl,
                                      float* __restrict__ rowsum) {
  int w = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (w >= R * Hl) return;
  int h = w / R, r = w % R;
  int b = residue_seq[r];
  int i = r - cu_residues[b];
  int n = cu_residues[b + 1] - cu_residues[b];
  int Tb = cu_seqlens[b + 1] - cu_seqlens[b];
  const float* A = probs + Hl * cu_sq[b] + static_cast<int64_t>(h) * Tb * Tb;
  float s = 0.f;
  for (int j = lane; j < n; j += 32)
    s += A[static_cast<int64_t>(i + 1) * Tb + (j + 1)] + A[static_cast<int64_t>(j + 1) * Tb + (i + 1)];
  s = warp_sum(s);
  if (lane == 0) rowsum[static_cast<size_t>(h) * R + r] = s;
}

// Contacts, step 2: one block per (sequence, head): total of the rowsums.
__global__ void contact_total_kernel(const float* __restrict__ rowsum, const int32_t* __restrict__ cu_residues,
                                     int R, int B, float* __restrict__ total) {
  int b = blockIdx.x, h = blockIdx.y;
  __shared__ float part[32];
  float s = 0.f;
  for (int r = cu_residues[b] + threadIdx.x; r < cu_residues[b + 1]; r += blockDim.x)
    s += rowsum[static_cast<size_t>(h) * R + r];
  s = warp_sum(s);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : 0.f;
    v = warp_sum(v);
    if (threadIdx.x == 0) total[static_cast<size_t>(h) * B + b] = v;
  }
}

// Contacts, step 3: one thread per contact element (b, i, j), summing over local heads.
__global__ void contact_accumulate_kernel(const float* __restrict__ probs, const int32_t* __restrict__ cu_residues,
                                          const int32_t* __restrict__ cu_seqlens,
                                          const int64_t* __restrict__ cu_sq, const int64_t* __restrict__ cu_rsq,
                                          int B, int R, int Hl, const float* __restrict__ w,
                                          const float* __restrict__ rowsum, const float* __restrict__ total,
                                          float* __restrict__ acc) {
  int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= cu_rsq[B]) return;
  int lo = 0, hi = B - 1;  // the sequence whose contact block holds e
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (cu_rsq[mid] <= e) lo = mid; else hi = mid - 1;
  }
  int b = lo;
  int n = cu_residues[b + 1] - cu_residues[b];
  int64_t local = e - cu_rsq[b];
  int i = static_cast<int>(local / n), j = static_cast<int>(local % n);
  int Tb = cu_seqlens[b + 1] - cu_seqlens[b];
  int r0 = cu_residues[b];
  float s = 0.f;
  for (int h = 0; h < Hl; ++h) {
    const float* A = probs + Hl * cu_sq[b] + static_cast<int64_t>(h) * Tb * Tb;
    float sym = A[static_cast<int64_t>(i + 1) * Tb + (j + 1)] + A[static_cast<int64_t>(j + 1) * Tb + (i + 1)];
    float tot = total[static_cast<size_t>(h) * B + b];
    float apc = tot != 0.f ? rowsum[static_cast<size_t>(h) * R + r0 + i] *
                                 rowsum[static_cast<size_t>(h) * R + r0 + j] / tot
                           : 0.f;
    s += w[h] * (sym - apc);
  }
  acc[e] += s;
}

__global__ void contact_finish_kernel(float* acc, size_t n, float bias) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) acc[i] = 1.f / (1.f + expf(-(acc[i] + bias)));
}

}  // namespace

void embed_tokens(const float* table, int D, const ChunkMeta& m, bool token_dropout, float* x,
                  cudaStream_t s) {
  size_t n = static_cast<size_t>(m.T) * D;
  if (n == 0) return;
  embed_kernel<<<blocks_for(n, 256), 256, 0, s>>>(table, D, m.tokens, m.token_seq, m.dropout_denominator,
                                                  token_dropout, m.T, x);
  check_launch();
}

void layer_norm(const float* x, int rows, int D, const float* g, const float* b, float eps, void* y,
                DType yt, cudaStream_t s) {
  if (rows == 0) return;
  const int warps = 8;
  ESM_DISPATCH_DTYPE(yt, T, layer_norm_kernel<T><<<blocks_for(rows, warps), warps * 32, 0, s>>>(
                                 x, rows, D, g, b, eps, static_cast<T*>(y)));
  check_launch();
}

void qkv_split_rotary(const void* qkv, DType t, const ChunkMeta& m, int Hl, int hd, const float* inv_freq,
                      float q_scale, void* q, void* k, void* v, cudaStream_t s) {
  size_t n = static_cast<size_t>(m.T) * Hl * (hd / 2);
  if (n == 0) return;
  ESM_DISPATCH_DTYPE(t, T, qkv_rotary_kernel<T><<<blocks_for(n, 256), 256, 0, s>>>(
                               static_cast<const T*>(qkv), m.positions, m.T, Hl, hd, inv_freq, q_scale,
                               static_cast<T*>(q), static_cast<T*>(k), static_cast<T*>(v)));
  check_launch();
}

void gelu_inplace(void* x, DType t, size_t n, cudaStream_t s) {
  if (n == 0) return;
  ESM_DISPATCH_DTYPE(t, T, gelu_kernel<T><<<blocks_for(n, 256), 256, 0, s>>>(static_cast<T*>(x), n));
  check_launch();
}

void convert_from_f32(const float* src, void* dst, DType dt, size_t n, cudaStream_t s) {
  if (n == 0) return;
  ESM_DISPATCH_DTYPE(dt, T, convert_kernel<T><<<blocks_for(n, 256), 256, 0, s>>>(src, static_cast<T*>(dst), n));
  check_launch();
}

void gather_residues(const float* src, int ld, int cols, const ChunkMeta& m, float* dst, cudaStream_t s) {
  size_t n = static_cast<size_t>(m.R) * cols;
  if (n == 0) return;
  gather_kernel<<<blocks_for(n, 256), 256, 0, s>>>(src, ld, cols, m.residue_token, m.R, dst);
  check_launch();
}

void sequence_means(const float* rows, int D, const ChunkMeta& m, float* means, cudaStream_t s) {
  if (m.B == 0) return;
  dim3 grid(blocks_for(D, 128), m.B);
  means_kernel<<<grid, 128, 0, s>>>(rows, D, m.cu_residues, means);
  check_launch();
}

void contacts_accumulate(const float* probs, const ChunkMeta& m, int Hl, const float* head_weights,
                         float* scratch, float* acc, cudaStream_t s) {
  if (m.R == 0) return;
  float* rowsum = scratch;                              // [Hl][R]
  float* total = scratch + static_cast<size_t>(Hl) * m.R;  // [Hl][B]
  const int warps = 8;
  contact_rowsum_kernel<<<blocks_for(static_cast<size_t>(m.R) * Hl, warps), warps * 32, 0, s>>>(
      probs, m.residue_seq, m.cu_residues, m.cu_seqlens, m.cu_token_squares, m.R, Hl, rowsum);
  check_launch();
  contact_total_kernel<<<dim3(m.B, Hl), 256, 0, s>>>(rowsum, m.cu_residues, m.R, m.B, total);
  check_launch();
  if (m.residue_squares == 0) return;
  contact_accumulate_kernel<<<blocks_for(m.residue_squares, 256), 256, 0, s>>>(
      probs, m.cu_residues, m.cu_seqlens, m.cu_token_squares, m.cu_residue_squares, m.B, m.R, Hl,
      head_weights, rowsum, total, acc);
  check_launch();
}

void contacts_finish(float* acc, size_t n, float bias, cudaStream_t s) {
  if (n == 0) return;
  contact_finish_kernel<<<blocks_for(n, 256), 256, 0, s>>>(acc, n, bias);
  check_launch();
}

}  // namespace esm::embed::cuda
