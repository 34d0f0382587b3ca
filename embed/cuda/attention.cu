// Attention over packed variable-length sequences: every query attends to its own sequence's
// keys only (cu_seqlens), no padding and no mask tensor.
//
// flash_attention: tensor cores through WMMA (16x16x16, fp16/bf16 inputs, fp32 accumulators).
//   A block owns 64 query rows of one sequence and one head (4 warps x 16 rows) and streams the
//   sequence's keys in tiles of 64: S = Q Kᵀ on tensor cores, an online softmax in fp32
//   (running max and sum per row), P rounded to the input type, O += P V on tensor cores. The
//   O accumulator lives in shared memory (fp32) because WMMA fragments have an unspecified
//   element layout, so the per-row rescale is done there. Head dims are padded to a multiple
//   of 16 (24 -> 32) with zero columns.
// attention_exact: fp32 arithmetic, two passes (row max and sum, then probabilities and P V),
//   any input type; writes the probabilities when asked (the contact head needs them).
#include <cuda_runtime.h>
#include <mma.h>

#include <cmath>

#include "cuda/cuda_check.hpp"
#include "cuda/dtype.cuh"
#include "cuda/kernels.hpp"

namespace esm::embed::cuda {

namespace {

constexpr int kQTile = kAttentionTileRows;  // query rows per block (4 warps x 16)
constexpr int kKTile = 64;                  // keys per shared-memory tile
constexpr int kFlashThreads = 128;

template <int DP>
struct FlashLayout {  // leading dimensions (elements) chosen for WMMA alignment and fewer bank conflicts
  static constexpr int ldt = DP + 8;       // Q/K/V rows (16-bit)
  static constexpr int lds = kKTile + 4;   // scores (fp32)
  static constexpr int ldp = kKTile + 8;   // probabilities (16-bit)
  static constexpr int ldo = DP + 4;       // output accumulator (fp32)
  static constexpr size_t bytes = sizeof(uint16_t) * (size_t(kQTile) * ldt + 2 * size_t(kKTile) * ldt) +
                                  sizeof(float) * 4 * 16 * lds + sizeof(uint16_t) * 4 * 16 * ldp +
                                  sizeof(float) * 4 * 16 * ldo;
};

// Copies rows [r0, r0 + rows) of one head's [T][hd] matrix into shared memory (ld elements per
// row), 16 bytes at a time; rows past the sequence end and columns past hd are zero.
template <typename T, int DP>
__device__ void load_tile(const T* __restrict__ src, int hd, int first_row, int rows_valid, int rows,
                          T* dst, int ld) {
  constexpr int pchunks = DP / 8;
  const int chunks = hd / 8;
  for (int idx = threadIdx.x; idx < rows * pchunks; idx += blockDim.x) {
    int r = idx / pchunks, c = idx % pchunks;
    uint4 val = make_uint4(0u, 0u, 0u, 0u);
    if (c < chunks && r < rows_valid)
      val = *reinterpret_cast<const uint4*>(src + static_cast<size_t>(first_row + r) * hd + c * 8);
    *reinterpret_cast<uint4*>(dst + r * ld + c * 8) = val;
  }
}

template <typename T, int DP>
__global__ void __launch_bounds__(kFlashThreads)
flash_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
             const int32_t* __restrict__ tiles, const int32_t* __restrict__ cu, int T_, int Hl, int hd,
             T* __restrict__ out) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  namespace wmma = nvcuda::wmma;
  using L = FlashLayout<DP>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem);
  T* Ks = Qs + kQTile * L::ldt;
  T* Vs = Ks + kKTile * L::ldt;
  float* Ss = reinterpret_cast<float*>(Vs + kKTile * L::ldt);
  T* Ps = reinterpret_cast<T*>(Ss + 4 * 16 * L::lds);
  float* Os = reinterpret_cast<float*>(Ps + 4 * 16 * L::ldp);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int h = blockIdx.y;
  const int b = tiles[2 * blockIdx.x], q0 = tiles[2 * blockIdx.x + 1];
  const int start = cu[b], len = cu[b + 1] - start;
  const T* qh = q + static_cast<size_t>(h) * T_ * hd + static_cast<size_t>(start) * hd;
  const T* kh = k + static_cast<size_t>(h) * T_ * hd + static_cast<size_t>(start) * hd;
  const T* vh = v + static_cast<size_t>(h) * T_ * hd + static_cast<size_t>(start) * hd;

  float* Sw = Ss + warp * 16 * L::lds;
  T* Pw = Ps + warp * 16 * L::ldp;
  float* Ow = Os + warp * 16 * L::ldo;

  load_tile<T, DP>(qh, hd, q0, min(kQTile, len - q0), kQTile, Qs, L::ldt);
  for (int i = lane; i < 16 * L::ldo; i += 32) Ow[i] = 0.f;
  __syncthreads();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qf[DP / 16];
  for (int kk = 0; kk < DP / 16; ++kk) wmma::load_matrix_sync(qf[kk], Qs + warp * 16 * L::ldt + kk * 16, L::ldt);

  // Lanes 2r and 2r+1 own row r of the warp's 16 rows, 32 key columns each.
  const int row = lane >> 1, half = lane & 1;
  float m_run = -INFINITY, l_run = 0.f;

  for (int k0 = 0; k0 < len; k0 += kKTile) {
    const int valid = min(kKTile, len - k0);
    __syncthreads();  // the previous K/V tile is no longer read
    load_tile<T, DP>(kh, hd, k0, valid, kKTile, Ks, L::ldt);
    load_tile<T, DP>(vh, hd, k0, valid, kKTile, Vs, L::ldt);
    __syncthreads();

    for (int nb = 0; nb < kKTile / 16; ++nb) {  // S = Q Kᵀ (K row-major = Kᵀ column-major)
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
      wmma::fill_fragment(sf, 0.f);
      for (int kk = 0; kk < DP / 16; ++kk) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kf;
        wmma::load_matrix_sync(kf, Ks + nb * 16 * L::ldt + kk * 16, L::ldt);
        wmma::mma_sync(sf, qf[kk], kf, sf);
      }
      wmma::store_matrix_sync(Sw + nb * 16, sf, L::lds, wmma::mem_row_major);
    }
    __syncwarp();

    const float* srow = Sw + row * L::lds + half * 32;
    float tmax = -INFINITY;
    for (int c = 0; c < 32; ++c)
      if (half * 32 + c < valid) tmax = fmaxf(tmax, srow[c]);
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    const float m_new = fmaxf(m_run, tmax);
    const float alpha = expf(m_run - m_new);  // 0 on the first tile
    float psum = 0.f;
    T* prow = Pw + row * L::ldp + half * 32;
    for (int c = 0; c < 32; ++c) {
      T p = from_f32<T>(half * 32 + c < valid ? expf(srow[c] - m_new) : 0.f);
      prow[c] = p;
      psum += to_f32(p);  // the sum uses the rounded P that multiplies V
    }
    psum += __shfl_xor_sync(0xffffffffu, psum, 1);
    l_run = l_run * alpha + psum;
    m_run = m_new;
    float* orow = Ow + row * L::ldo;
    for (int c = half; c < DP; c += 2) orow[c] *= alpha;
    __syncwarp();

    for (int db = 0; db < DP / 16; ++db) {  // O += P V
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
      wmma::load_matrix_sync(of, Ow + db * 16, L::ldo, wmma::mem_row_major);
      for (int kk = 0; kk < kKTile / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pf;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vf;
        wmma::load_matrix_sync(pf, Pw + kk * 16, L::ldp);
        wmma::load_matrix_sync(vf, Vs + kk * 16 * L::ldt + db * 16, L::ldt);
        wmma::mma_sync(of, pf, vf, of);
      }
      wmma::store_matrix_sync(Ow + db * 16, of, L::ldo, wmma::mem_row_major);
    }
    __syncwarp();
  }

  const int qrow = q0 + warp * 16 + row;
  if (qrow < len) {
    const float inv = 1.f / l_run;
    T* dst = out + static_cast<size_t>(start + qrow) * Hl * hd + static_cast<size_t>(h) * hd;
    for (int c = half; c < hd; c += 2) dst[c] = from_f32<T>(Ow[row * L::ldo + c] * inv);
  }
#else
  __trap();  // built only for sm_80+; the host refuses older devices
#endif
}

template <typename T, int DP>
void launch_flash(const void* q, const void* k, const void* v, const ChunkMeta& m, int Hl, int hd, void* out,
                  cudaStream_t s) {
  auto kernel = flash_kernel<T, DP>;
  constexpr size_t bytes = FlashLayout<DP>::bytes;
  ESM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  dim3 grid(m.num_tiles, Hl);
  kernel<<<grid, kFlashThreads, bytes, s>>>(static_cast<const T*>(q), static_cast<const T*>(k),
                                            static_cast<const T*>(v), m.attn_tiles, m.cu_seqlens, m.T, Hl, hd,
                                            static_cast<T*>(out));
  ESM_CUDA_CHECK(cudaGetLastError());
}

template <typename T>
void dispatch_flash(const void* q, const void* k, const void* v, const ChunkMeta& m, int Hl, int hd, void* out,
                    cudaStream_t s) {
  if (hd <= 16) launch_flash<T, 16>(q, k, v, m, Hl, hd, out, s);
  else if (hd <= 32) launch_flash<T, 32>(q, k, v, m, Hl, hd, out, s);
  else if (hd <= 64) launch_flash<T, 64>(q, k, v, m, Hl, hd, out, s);
  else launch_flash<T, 128>(q, k, v, m, Hl, hd, out, s);
}

// ---- exact attention (fp32 arithmetic) ----

constexpr int kExactRows = 16;  // query rows per pass
constexpr int kExactKeys = 32;  // keys per tile
constexpr int kExactThreads = 128;

size_t exact_smem_floats(int hd) {
  return size_t(kExactRows) * hd          // Q
         + size_t(kExactKeys) * (hd + 1)  // K (padded row: conflict-free dot products)
         + size_t(kExactKeys) * hd        // V
         + size_t(kExactRows) * (kExactKeys + 1)  // S / P
         + size_t(kExactRows) * hd        // O
         + 2 * kExactRows;                // row max, row sum
}

template <typename T>
__device__ void exact_load_keys(const T* kh, const T* vh, int hd, int k0, int valid, float* Ks, float* Vs,
                                bool with_v) {
  for (int idx = threadIdx.x; idx < kExactKeys * hd; idx += blockDim.x) {
    int r = idx / hd, c = idx % hd;
    bool in = r < valid;
    Ks[r * (hd + 1) + c] = in ? to_f32(kh[static_cast<size_t>(k0 + r) * hd + c]) : 0.f;
    if (with_v) Vs[r * hd + c] = in ? to_f32(vh[static_cast<size_t>(k0 + r) * hd + c]) : 0.f;
  }
}

// S[r][j] = q_r . k_j for the tile (-inf past the sequence end).
__device__ void exact_scores(const float* Qs, const float* Ks, int hd, int valid, float* Ss) {
  for (int e = threadIdx.x; e < kExactRows * kExactKeys; e += blockDim.x) {
    int r = e / kExactKeys, j = e % kExactKeys;
    float acc = 0.f;
    for (int c = 0; c < hd; ++c) acc += Qs[r * hd + c] * Ks[j * (hd + 1) + c];
    Ss[r * (kExactKeys + 1) + j] = j < valid ? acc : -INFINITY;
  }
}

template <typename T>
__global__ void __launch_bounds__(kExactThreads)
exact_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
             const int32_t* __restrict__ tiles, const int32_t* __restrict__ cu,
             const int64_t* __restrict__ cu_sq, int T_, int Hl, int hd, T* __restrict__ out,
             float* __restrict__ probs) {
  extern __shared__ __align__(16) float fsmem[];
  float* Qs = fsmem;
  float* Ks = Qs + kExactRows * hd;
  float* Vs = Ks + kExactKeys * (hd + 1);
  float* Ss = Vs + kExactKeys * hd;
  float* Os = Ss + kExactRows * (kExactKeys + 1);
  float* row_max = Os + kExactRows * hd;
  float* row_sum = row_max + kExactRows;

  const int h = blockIdx.y;
  const int b = tiles[2 * blockIdx.x], tile_q0 = tiles[2 * blockIdx.x + 1];
  const int start = cu[b], len = cu[b + 1] - start;
  const T* qh = q + (static_cast<size_t>(h) * T_ + start) * hd;
  const T* kh = k + (static_cast<size_t>(h) * T_ + start) * hd;
  const T* vh = v + (static_cast<size_t>(h) * T_ + start) * hd;
  float* ph = probs ? probs + Hl * cu_sq[b] + static_cast<int64_t>(h) * len * len : nullptr;

  for (int q0 = tile_q0; q0 < min(tile_q0 + kQTile, len); q0 += kExactRows) {
    const int rows = min(kExactRows, len - q0);
    __syncthreads();
    for (int idx = threadIdx.x; idx < kExactRows * hd; idx += blockDim.x) {
      int r = idx / hd, c = idx % hd;
      Qs[idx] = r < rows ? to_f32(qh[static_cast<size_t>(q0 + r) * hd + c]) : 0.f;
      Os[idx] = 0.f;
    }
    if (threadIdx.x < kExactRows) {
      row_max[threadIdx.x] = -INFINITY;
      row_sum[threadIdx.x] = 0.f;
    }
    // Pass 1: row max and sum of exp (online over key tiles).
    for (int k0 = 0; k0 < len; k0 += kExactKeys) {
      const int valid = min(kExactKeys, len - k0);
      __syncthreads();
      exact_load_keys(kh, vh, hd, k0, valid, Ks, Vs, false);
      __syncthreads();
      exact_scores(Qs, Ks, hd, valid, Ss);
      __syncthreads();
      if (threadIdx.x < kExactRows) {
        const float* s = Ss + threadIdx.x * (kExactKeys + 1);
        float m_old = row_max[threadIdx.x], m_new = m_old;
        for (int j = 0; j < valid; ++j) m_new = fmaxf(m_new, s[j]);
        float sum = row_sum[threadIdx.x] * expf(m_old - m_new);
        for (int j = 0; j < valid; ++j) sum += expf(s[j] - m_new);
        row_max[threadIdx.x] = m_new;
        row_sum[threadIdx.x] = sum;
      }
    }
    // Pass 2: probabilities (written if asked) and O = P V.
    for (int k0 = 0; k0 < len; k0 += kExactKeys) {
      const int valid = min(kExactKeys, len - k0);
      __syncthreads();
      exact_load_keys(kh, vh, hd, k0, valid, Ks, Vs, true);
      __syncthreads();
      exact_scores(Qs, Ks, hd, valid, Ss);
      __syncthreads();
      for (int e = threadIdx.x; e < kExactRows * kExactKeys; e += blockDim.x) {
        int r = e / kExactKeys, j = e % kExactKeys;
        float* s = Ss + r * (kExactKeys + 1) + j;
        float p = j < valid ? expf(*s - row_max[r]) / row_sum[r] : 0.f;
        *s = p;
        if (ph && r < rows && j < valid) ph[static_cast<int64_t>(q0 + r) * len + k0 + j] = p;
      }
      __syncthreads();
      for (int idx = threadIdx.x; idx < kExactRows * hd; idx += blockDim.x) {
        int r = idx / hd, c = idx % hd;
        float acc = Os[idx];
        for (int j = 0; j < valid; ++j) acc += Ss[r * (kExactKeys + 1) + j] * Vs[j * hd + c];
        Os[idx] = acc;
      }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < rows * hd; idx += blockDim.x) {
      int r = idx / hd, c = idx % hd;
      out[static_cast<size_t>(start + q0 + r) * Hl * hd + static_cast<size_t>(h) * hd + c] = from_f32<T>(Os[idx]);
    }
  }
}

}  // namespace

bool flash_attention_supports(int head_dim) { return head_dim > 0 && head_dim <= 128 && head_dim % 8 == 0; }

void flash_attention(const void* q, const void* k, const void* v, DType t, const ChunkMeta& m, int Hl, int hd,
                     void* out, cudaStream_t s) {
  if (m.num_tiles == 0) return;
  if (!flash_attention_supports(hd)) fail("flash attention: head dim ", hd, " not supported (multiple of 8, <= 128)");
  if (t == DType::BF16) dispatch_flash<__nv_bfloat16>(q, k, v, m, Hl, hd, out, s);
  else if (t == DType::F16) dispatch_flash<__half>(q, k, v, m, Hl, hd, out, s);
  else fail("flash attention needs fp16 or bf16 activations (fp32 mode uses the exact path)");
}

void attention_exact(const void* q, const void* k, const void* v, DType t, const ChunkMeta& m, int Hl, int hd,
                     void* out, float* probs, cudaStream_t s) {
  if (m.num_tiles == 0) return;
  if (hd > 256) fail("attention: head dim ", hd, " above 256");
  const size_t bytes = exact_smem_floats(hd) * sizeof(float);
  dim3 grid(m.num_tiles, Hl);
  ESM_DISPATCH_DTYPE(t, T, {
    auto kernel = exact_kernel<T>;
    ESM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
    kernel<<<grid, kExactThreads, bytes, s>>>(static_cast<const T*>(q), static_cast<const T*>(k),
                                              static_cast<const T*>(v), m.attn_tiles, m.cu_seqlens,
                                              m.cu_token_squares, m.T, Hl, hd, static_cast<T*>(out), probs);
  });
  ESM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace esm::embed::cuda
