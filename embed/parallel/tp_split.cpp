#include "parallel/tp_split.hpp"

#include <cstring>
#include <sstream>

#include "core/error.hpp"

namespace esm::embed::parallel {

std::vector<int> valid_tp_sizes(const ModelConfig& config, int max_size) {
  std::vector<int> sizes;
  for (int n = 1; n <= max_size; ++n)
    if (config.heads % n == 0 && config.ffn % n == 0) sizes.push_back(n);
  return sizes;
}

TpSplit make_tp_split(const ModelConfig& config, int rank, int size) {
  if (size < 1) fail("--tensor-parallel must be at least 1 (got ", size, ")");
  if (rank < 0 || rank >= size) fail("tensor-parallel rank ", rank, " outside 0..", size - 1);
  if (config.heads % size != 0 || config.ffn % size != 0) {
    std::ostringstream ok;
    for (int n : valid_tp_sizes(config)) ok << (ok.tellp() > 0 ? ", " : "") << n;
    fail("--tensor-parallel ", size, " does not divide model ", config.name, " (", config.heads,
         " heads, FFN ", config.ffn, "); possible sizes: ", ok.str());
  }
  TpSplit s;
  s.rank = rank;
  s.size = size;
  s.hidden = config.hidden;
  s.head_dim = config.head_dim();
  s.heads_local = config.heads / size;
  s.head_begin = rank * s.heads_local;
  s.ffn_local = config.ffn / size;
  s.ffn_begin = rank * s.ffn_local;
  return s;
}

namespace {

// rows [r0, r0 + n) of a row-major [rows, cols] matrix
void copy_rows(const float* src, int cols, int r0, int n, float* dst) {
  std::memcpy(dst, src + static_cast<size_t>(r0) * cols, sizeof(float) * static_cast<size_t>(n) * cols);
}

// columns [c0, c0 + n) of a row-major [rows, cols] matrix -> [rows, n]
std::vector<float> copy_cols(const float* src, int rows, int cols, int c0, int n) {
  std::vector<float> out(static_cast<size_t>(rows) * n);
  for (int r = 0; r < rows; ++r)
    std::memcpy(out.data() + static_cast<size_t>(r) * n, src + static_cast<size_t>(r) * cols + c0,
                sizeof(float) * n);
  return out;
}

}  // namespace

LayerShard shard_layer(const LayerWeights& w, const TpSplit& s) {
  const int D = s.hidden, Dl = s.local_width(), c0 = s.head_begin * s.head_dim;
  LayerShard out;
  out.wqkv.resize(static_cast<size_t>(3) * Dl * D);
  out.bqkv.resize(static_cast<size_t>(3) * Dl);
  const float* ws[3] = {w.wq, w.wk, w.wv};
  const float* bs[3] = {w.bq, w.bk, w.bv};
  for (int p = 0; p < 3; ++p) {
    copy_rows(ws[p], D, c0, Dl, out.wqkv.data() + static_cast<size_t>(p) * Dl * D);
    std::memcpy(out.bqkv.data() + static_cast<size_t>(p) * Dl, bs[p] + c0, sizeof(float) * Dl);
  }
  out.wo = copy_cols(w.wo, D, D, c0, Dl);
  out.bo.assign(w.bo, w.bo + D);
  out.w1.resize(static_cast<size_t>(s.ffn_local) * D);
  copy_rows(w.w1, D, s.ffn_begin, s.ffn_local, out.w1.data());
  out.b1.assign(w.b1 + s.ffn_begin, w.b1 + s.ffn_begin + s.ffn_local);
  const int F = s.ffn_local * s.size;
  out.w2 = copy_cols(w.w2, D, F, s.ffn_begin, s.ffn_local);
  out.b2.assign(w.b2, w.b2 + D);
  return out;
}

}  // namespace esm::embed::parallel
