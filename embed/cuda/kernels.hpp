// Host-side launchers of the encoder's CUDA kernels (elementwise.cu, attention.cu). Pointers are
// device pointers; activations are typed by DType so host code needs no templates.
//
// Token layout of a chunk ("packed", no padding): sequences back to back, T tokens in all,
// sequence b owns tokens [cu_seqlens[b], cu_seqlens[b+1]), cls first and eos last. Residues are
// the tokens between them: R = T - 2B rows, sequence b owning [cu_residues[b], cu_residues[b+1]).
// q, k, v are stored per head, [Hl][T][hd]; attention output is [T][Hl*hd] (token-major).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda/chunk_plan.hpp"

namespace esm::embed::cuda {

enum class DType { F32, F16, BF16 };
inline size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 2; }

struct ChunkMeta {
  const int32_t* tokens = nullptr;         // [T]
  const int32_t* positions = nullptr;      // [T] index inside its sequence (cls = 0)
  const int32_t* token_seq = nullptr;      // [T] sequence of each token
  const int32_t* cu_seqlens = nullptr;     // [B+1]
  const float* dropout_denominator = nullptr;  // [B] 1 - (mask tokens / tokens)
  const int32_t* residue_token = nullptr;  // [R] token row of each residue
  const int32_t* residue_seq = nullptr;    // [R] sequence of each residue
  const int32_t* cu_residues = nullptr;    // [B+1]
  const int64_t* cu_token_squares = nullptr;    // [B+1] prefix sums of T_b^2 (attention maps)
  const int64_t* cu_residue_squares = nullptr;  // [B+1] prefix sums of n_b^2 (contact maps)
  const int32_t* attn_tiles = nullptr;     // [2*num_tiles] (sequence, first query row) pairs
  int T = 0, B = 0, R = 0, num_tiles = 0, max_len = 0;
  int64_t token_squares = 0, residue_squares = 0;
};

// x[t] = E[token] with ESM-2 token dropout: mask tokens zeroed, the rest times
// 0.88 / dropout_denominator[seq] (applied at inference too). x is fp32 [T, D].
void embed_tokens(const float* table, int D, const ChunkMeta& m, bool token_dropout, float* x,
                  cudaStream_t s);

// y = LayerNorm(x) * g + b over rows of D (biased variance, fp32 statistics); y typed yt.
void layer_norm(const float* x, int rows, int D, const float* g, const float* b, float eps,
                void* y, DType yt, cudaStream_t s);

// Splits qkv [T, 3*Hl*hd] (bias already added) into q, k, v [Hl][T][hd], scaling q by
// q_scale and rotating q and k (NeoX halves) by position * inv_freq[i] (fp32 angle, accurate
// sin/cos).
void qkv_split_rotary(const void* qkv, DType t, const ChunkMeta& m, int heads_local, int head_dim,
                      const float* inv_freq, float q_scale, void* q, void* k, void* v,
                      cudaStream_t s);

// x = 0.5 x (1 + erf(x / sqrt 2)) in place (exact GELU; fp32 math).
void gelu_inplace(void* x, DType t, size_t n, cudaStream_t s);

// dst (typed dt) = src (fp32), n elements.
void convert_from_f32(const float* src, void* dst, DType dt, size_t n, cudaStream_t s);

// dst[r, 0:cols] = src[residue_token[r], 0:cols] (src rows of length ld); fp32.
void gather_residues(const float* src, int ld, int cols, const ChunkMeta& m, float* dst,
                     cudaStream_t s);

// means[b, :] = mean over sequence b's residue rows of rows[R, D] (fp64 sums); zero when n = 0.
void sequence_means(const float* rows, int D, const ChunkMeta& m, float* means, cudaStream_t s);

// Flash attention over packed sequences (tensor cores, online fp32 softmax); t is F16 or BF16;
// head_dim in {16, 24, 32, 64, 128}. out is [T][Hl*hd].
void flash_attention(const void* q, const void* k, const void* v, DType t, const ChunkMeta& m,
                     int heads_local, int head_dim, void* out, cudaStream_t s);
bool flash_attention_supports(int head_dim);

// Exact attention with fp32 arithmetic for any dtype and head dim <= 256 (the fp32 validation
// path and the --contacts path). When probs is not null the softmax probabilities are written:
// sequence b, head h at probs[Hl*cu_token_squares[b] + h*T_b*T_b], row-major [T_b][T_b].
void attention_exact(const void* q, const void* k, const void* v, DType t, const ChunkMeta& m,
                     int heads_local, int head_dim, void* out, float* probs, cudaStream_t s);

// Adds this layer's contribution to the contact logits: for each local head h (weight w[h]),
// S = A + Aᵀ over the residue block, acc += w[h] * (S - rowsum ⊗ rowsum / total) (APC).
// acc is [cu_residue_squares[B]] fp32; scratch holds Hl*R + Hl*B floats.
void contacts_accumulate(const float* probs, const ChunkMeta& m, int heads_local,
                         const float* head_weights, float* scratch, float* acc, cudaStream_t s);
// acc = sigmoid(acc + bias) in place.
void contacts_finish(float* acc, size_t n, float bias, cudaStream_t s);

}  // namespace esm::embed::cuda
