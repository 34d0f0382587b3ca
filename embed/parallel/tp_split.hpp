// Megatron tensor-parallel split of an ESM-2 layer, shared by the CPU TP backend (MPI
// all-reduce) and the CUDA backend (NCCL all-reduce), so both run exactly the same split.
//
// Rank r of N owns heads [r*H/N, (r+1)*H/N) and FFN columns [r*F/N, (r+1)*F/N):
//   attention:  qkv_r = LN(x) Wqkv_rᵀ + bqkv_r      (column-parallel: this rank's heads only)
//               part_r = attn_r Wo_rᵀ               (row-parallel: Wo columns of those heads)
//   FFN:        h_r = gelu(LN(x) W1_rᵀ + b1_r)      (column-parallel)
//               part_r = h_r W2_rᵀ                  (row-parallel)
// and the residual update is one all-reduce per block: rank 0 contributes x + b + part_0,
// every other rank part_r, so sum_r(...) = x + b + o Woᵀ. With N = 1 this is the plain layer
// (and Wqkv is the fused [3D, D] projection the GPU uses anyway).
#pragma once
#include <vector>

#include "encoder/model.hpp"

namespace esm::embed::parallel {

struct TpSplit {
  int rank = 0, size = 1;
  int hidden = 0, head_dim = 0;
  int head_begin = 0, heads_local = 0;  // this rank's heads
  int ffn_begin = 0, ffn_local = 0;     // this rank's FFN columns
  int local_width() const { return heads_local * head_dim; }  // Dl: attention features owned
  bool adds_bias() const { return rank == 0; }  // who adds the row-parallel biases and x
};

// Throws esm::Error when the model's heads or FFN width do not divide by size (naming the
// sizes that would work).
TpSplit make_tp_split(const ModelConfig& config, int rank, int size);

// This rank's slice of one layer's linear weights, fp32 row-major [out, in] like the model.
// LayerNorm parameters and inv_freq are not split (every rank reads them from the Model).
struct LayerShard {
  std::vector<float> wqkv;  // [3*Dl, D]: this rank's q rows, then k rows, then v rows
  std::vector<float> bqkv;  // [3*Dl]
  std::vector<float> wo;    // [D, Dl]: the Wo columns that read this rank's heads
  std::vector<float> bo;    // [D] (the model's bo; added by rank 0 only)
  std::vector<float> w1;    // [Fl, D]
  std::vector<float> b1;    // [Fl]
  std::vector<float> w2;    // [D, Fl]: the W2 columns that read this rank's FFN features
  std::vector<float> b2;    // [D] (added by rank 0 only)
};

LayerShard shard_layer(const LayerWeights& layer, const TpSplit& split);

// Sizes that divide both heads and ffn (for error messages and --tensor-parallel checks).
std::vector<int> valid_tp_sizes(const ModelConfig& config, int max_size = 64);

}  // namespace esm::embed::parallel
