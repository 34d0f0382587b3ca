// The fast CPU backend: the forward of reference_forward.cpp over a packed batch (sequences
// concatenated, no padding), with BLAS GEMMs over all tokens and attention per sequence.
//
// Batch invariance is bitwise. A BLAS result can depend on the matrix shape (blocking, kernel
// choice, small-matrix paths), so no GEMM here ever spans two sequences or has a shape that
// depends on the rest of the batch: every linear layer is cut into row tiles that start at the
// first row of a sequence (kRowTile rows, the last tile of a sequence shorter) and fixed column
// chunks (a function of the layer width only). Each (tile, chunk) is one sgemm call whose
// shape and operands are a function of that sequence alone; elementwise work is per row.
// OpenBLAS runs single-threaded inside each call and our threads take whole calls, so the
// thread count does not change any result either.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "encoder/backends.hpp"
#include "encoder/fast_math.hpp"
#include "encoder/reference_ops.hpp"
#include "encoder/thread_pool.hpp"
#include "encoder/tokenizer.hpp"

namespace esm::embed {

namespace {

constexpr int kRowTile = 128;   // rows per GEMM call (tokens of one sequence)
constexpr int kColChunk = 512;  // output features per GEMM call
constexpr int kQueryBlock = 256;  // attention query rows per block

// One GEMM call's rows: [row, row + rows) of the packed buffer, all in sequence `seq`.
struct Tile {
  int seq, row, rows;
};

struct PackedBatch {
  std::vector<int> off, len;  // first packed row and token count of each sequence
  int total = 0;
};

// Cuts rows [first(s), first(s) + count(s)) of every sequence into tiles of kRowTile.
template <typename First, typename Count>
std::vector<Tile> make_tiles(size_t nseq, First first, Count count) {
  std::vector<Tile> tiles;
  for (size_t s = 0; s < nseq; ++s)
    for (int r = 0; r < count(s); r += kRowTile)
      tiles.push_back({int(s), first(s) + r, std::min(kRowTile, count(s) - r)});
  return tiles;
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(std::shared_ptr<const Model> m, int threads, size_t max_tokens)
      : model_(std::move(m)), pool_(threads), max_tokens_(max_tokens) {
#ifdef OPENBLAS_CONFIG_H
    // Our threads each make whole sgemm calls; OpenBLAS must not add threads of its own.
    openblas_set_num_threads(1);
#endif
  }

  std::vector<SequenceOutput> forward(const std::vector<std::vector<int32_t>>& tokens,
                                      const OutputRequest& req) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> layers = check_forward_input(tokens, req, *model_);
    std::vector<SequenceOutput> out(tokens.size());
    std::vector<size_t> counts;
    for (const auto& t : tokens) counts.push_back(t.size());
    // Results do not depend on the grouping; the budget only bounds memory.
    for (const auto& group : plan_batches(counts, max_tokens_)) {
      std::vector<const std::vector<int32_t>*> batch;
      for (size_t i : group) batch.push_back(&tokens[i]);
      std::vector<SequenceOutput> res = run_batch(batch, layers, req);
      for (size_t k = 0; k < group.size(); ++k) out[group[k]] = std::move(res[k]);
    }
    return out;
  }

 private:
  // y[tile rows, N] (+)= x[tile rows, K] W[N, K]^T, over all tiles x column chunks, followed by
  // `epilogue(tile, c0, c1)` on the block just written.
  template <typename Epilogue>
  void linear(const std::vector<Tile>& tiles, const float* x, int ldx, const float* W, int K, int N, float* y,
              int ldy, float beta, Epilogue epilogue) {
    const int chunks = (N + kColChunk - 1) / kColChunk;
    pool_.parallel_for(tiles.size() * size_t(chunks), [&](size_t task, int) {
      const Tile& t = tiles[task / size_t(chunks)];
      const int c0 = int(task % size_t(chunks)) * kColChunk, c1 = std::min(N, c0 + kColChunk);
      float* yt = y + size_t(t.row) * ldy + c0;
      if (beta != 0.f) epilogue.before(t, c0, c1);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t.rows, c1 - c0, K, 1.0f, x + size_t(t.row) * ldx, ldx,
                  W + size_t(c0) * K, K, beta, yt, ldy);
      epilogue.after(t, c0, c1);
    });
  }

  // Adds the bias after the GEMM (optionally followed by GELU).
  struct BiasAfter {
    const float* b;
    float* y;
    int ldy;
    bool gelu;
    void before(const Tile&, int, int) {}
    void after(const Tile& t, int c0, int c1) {
      for (int r = t.row; r < t.row + t.rows; ++r) {
        float* row = y + size_t(r) * ldy;
        for (int c = c0; c < c1; ++c) row[c] += b[c];
        if (gelu) gelu_inplace(row + c0, size_t(c1 - c0));
      }
    }
  };
  // Residual: y already holds x; adds the bias first, then the GEMM adds on top (beta = 1).
  struct ResidualBias {
    const float* b;
    float* y;
    int ldy;
    void before(const Tile& t, int c0, int c1) {
      for (int r = t.row; r < t.row + t.rows; ++r) {
        float* row = y + size_t(r) * ldy;
        for (int c = c0; c < c1; ++c) row[c] += b[c];
      }
    }
    void after(const Tile&, int, int) {}
  };

  void layernorm_rows(const std::vector<Tile>& tiles, const float* x, const float* w, const float* b, float* y) {
    const int D = model_->config().hidden;
    const double eps = model_->config().layer_norm_eps;
    pool_.parallel_for(tiles.size(), [&](size_t i, int) {
      const Tile& t = tiles[i];
      for (int r = t.row; r < t.row + t.rows; ++r) {
        const float* xr = x + size_t(r) * D;
        float* yr = y + size_t(r) * D;
        double mean = 0, var = 0;
        for (int k = 0; k < D; ++k) mean += xr[k];
        mean /= D;
        for (int k = 0; k < D; ++k) var += (xr[k] - mean) * (xr[k] - mean);
        var /= D;
        const float m = float(mean), inv = float(1.0 / std::sqrt(var + eps));
        for (int k = 0; k < D; ++k) yr[k] = (xr[k] - m) * inv * w[k] + b[k];
      }
    });
  }

  // cos/sin of float(p) * inv_freq[i] for p < T, per distinct inv_freq vector; cached.
  const std::vector<float>& rotary_table(const std::vector<float>& inv_freq, int T) {
    auto& tab = rotary_[inv_freq];
    const size_t half = inv_freq.size();
    size_t have = tab.size() / (2 * half);
    if (have < size_t(T)) {
      size_t want = std::max<size_t>(size_t(T), 2 * have);
      tab.resize(want * 2 * half);
      for (size_t p = have; p < want; ++p)
        for (size_t i = 0; i < half; ++i) {
          float angle = float(p) * inv_freq[i];  // rounded to float as the fp32 reference does
          tab[(p * half + i) * 2] = float(std::cos(double(angle)));
          tab[(p * half + i) * 2 + 1] = float(std::sin(double(angle)));
        }
    }
    return tab;
  }

  std::vector<SequenceOutput> run_batch(const std::vector<const std::vector<int32_t>*>& batch,
                                        const std::vector<int>& layers, const OutputRequest& req) {
    const ModelConfig& c = model_->config();
    const ModelWeights& W = model_->weights();
    const int D = c.hidden, H = c.heads, hd = c.head_dim(), F = c.ffn, L = c.num_layers, half = hd / 2;
    const size_t S = batch.size();

    PackedBatch pb;
    for (const auto* t : batch) {
      pb.off.push_back(pb.total);
      pb.len.push_back(int(t->size()));
      pb.total += int(t->size());
    }
    const size_t Tt = size_t(pb.total);
    int Tmax = *std::max_element(pb.len.begin(), pb.len.end());
    const std::vector<Tile> all = make_tiles(S, [&](size_t s) { return pb.off[s]; }, [&](size_t s) { return pb.len[s]; });
    const std::vector<Tile> residues =
        make_tiles(S, [&](size_t s) { return pb.off[s] + 1; }, [&](size_t s) { return pb.len[s] - 2; });

    std::vector<SequenceOutput> out(S);
    for (size_t s = 0; s < S; ++s) {
      out[s].n = pb.len[s] - 2;
      out[s].layers.resize(layers.size());
      out[s].means.resize(layers.size());
    }
    auto keep = [&](int k, const float* x) {
      for (size_t r = 0; r < layers.size(); ++r) {
        if (layers[r] != k) continue;
        pool_.parallel_for(S, [&](size_t s, int) {
          ref::residue_rows_and_mean(x + size_t(pb.off[s] + 1) * D, out[s].n, D, out[s].layers[r], out[s].means[r]);
        });
      }
    };

    // Embedding and token-dropout scaling, per sequence (the mask ratio is per sequence).
    std::vector<float> x(Tt * D), h(Tt * D), q(Tt * D), k(Tt * D), v(Tt * D), o(Tt * D), u(Tt * F);
    pool_.parallel_for(S, [&](size_t s, int) {
      ref::embed_tokens(batch[s]->data(), pb.len[s], W.word_embeddings, D, c.token_dropout, &x[size_t(pb.off[s]) * D]);
    });
    keep(0, x.data());

    // Contacts: per (sequence, head) channel maps of one layer, then summed in channel order.
    std::vector<size_t> coff(S + 1, 0);
    for (size_t s = 0; s < S; ++s) coff[s + 1] = coff[s] + size_t(out[s].n) * size_t(out[s].n);
    std::vector<float> channels, contact_sum;
    if (req.contacts) {
      channels.resize(coff[S] * size_t(H));
      contact_sum.assign(coff[S], 0.f);
    }
    std::vector<std::vector<float>> scratch(size_t(pool_.size()));
    const float scaling = 1.0f / std::sqrt(float(hd));

    for (int l = 0; l < L; ++l) {
      const LayerWeights& lw = W.layers[size_t(l)];
      const std::vector<float>& rot = rotary_table(lw.inv_freq, Tmax);
      layernorm_rows(all, x.data(), lw.attn_ln_w, lw.attn_ln_b, h.data());
      linear(all, h.data(), D, lw.wq, D, D, q.data(), D, 0.f, BiasAfter{lw.bq, q.data(), D, false});
      linear(all, h.data(), D, lw.wk, D, D, k.data(), D, 0.f, BiasAfter{lw.bk, k.data(), D, false});
      linear(all, h.data(), D, lw.wv, D, D, v.data(), D, 0.f, BiasAfter{lw.bv, v.data(), D, false});
      // q scaling then rotary on q and k (NeoX halves), per row.
      pool_.parallel_for(all.size(), [&](size_t i, int) {
        const Tile& t = all[i];
        for (int r = t.row; r < t.row + t.rows; ++r) {
          const float* cs = &rot[size_t(r - pb.off[size_t(t.seq)]) * half * 2];
          for (float* base : {&q[size_t(r) * D], &k[size_t(r) * D]}) {
            const bool is_q = base == &q[size_t(r) * D];
            for (int j = 0; j < H; ++j) {
              float* e = base + size_t(j) * hd;
              for (int a = 0; a < half; ++a) {
                float x1 = e[a], x2 = e[a + half];
                if (is_q) x1 *= scaling, x2 *= scaling;
                e[a] = x1 * cs[2 * a] - x2 * cs[2 * a + 1];
                e[a + half] = x2 * cs[2 * a] + x1 * cs[2 * a + 1];
              }
            }
          }
        }
      });
      // Attention per (sequence, head), in blocks of query rows so memory stays O(block x T):
      // S = q k^T, softmax rows, o = P v. Residue rows of P are kept for the contact channel.
      pool_.parallel_for(S * size_t(H), [&](size_t task, int worker) {
        const size_t s = task / size_t(H);
        const int j = int(task % size_t(H)), T = pb.len[s], n = T - 2;
        std::vector<float>& P = scratch[size_t(worker)];
        const int qb = std::min(T, kQueryBlock);
        if (P.size() < size_t(qb) * T) P.resize(size_t(qb) * T);
        const size_t base = size_t(pb.off[s]) * D + size_t(j) * hd;
        float* ch = req.contacts && n > 0 ? &channels[coff[s] * H + size_t(j) * n * n] : nullptr;
        for (int a0 = 0; a0 < T; a0 += qb) {
          const int rows = std::min(qb, T - a0);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, T, hd, 1.0f, &q[base + size_t(a0) * D], D,
                      &k[base], D, 0.0f, P.data(), T);
          for (int a = 0; a < rows; ++a) softmax_inplace(&P[size_t(a) * T], size_t(T));
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, T, 1.0f, P.data(), T, &v[base], D, 0.0f,
                      &o[base + size_t(a0) * D], D);
          if (ch)
            for (int a = std::max(a0, 1); a < std::min(a0 + rows, T - 1); ++a)
              std::memcpy(ch + size_t(a - 1) * n, &P[size_t(a - a0) * T + 1], size_t(n) * sizeof(float));
        }
        if (ch) contact_channel(ch, n, W.contact_w[size_t(l) * H + j]);
      });
      if (req.contacts)
        pool_.parallel_for(S, [&](size_t s, int) {
          const size_t nn = coff[s + 1] - coff[s];
          if (nn == 0) return;
          float* acc = &contact_sum[coff[s]];
          for (int j = 0; j < H; ++j) {
            const float* ch = &channels[coff[s] * H + size_t(j) * nn];
            for (size_t i = 0; i < nn; ++i) acc[i] += ch[i];
          }
        });
      linear(all, o.data(), D, lw.wo, D, D, x.data(), D, 1.f, ResidualBias{lw.bo, x.data(), D});
      layernorm_rows(all, x.data(), lw.ffn_ln_w, lw.ffn_ln_b, h.data());
      linear(all, h.data(), D, lw.w1, D, F, u.data(), F, 0.f, BiasAfter{lw.b1, u.data(), F, true});
      linear(all, u.data(), F, lw.w2, F, D, x.data(), D, 1.f, ResidualBias{lw.b2, x.data(), D});
      if (l + 1 < L) keep(l + 1, x.data());
    }

    // Final LayerNorm (representation L) on residue rows; the LM head reads it.
    layernorm_rows(residues, x.data(), W.final_ln_w, W.final_ln_b, h.data());
    keep(L, h.data());
    if (req.logits) {
      linear(residues, h.data(), D, W.lm_dense_w, D, D, q.data(), D, 0.f, BiasAfter{W.lm_dense_b, q.data(), D, true});
      layernorm_rows(residues, q.data(), W.lm_ln_w, W.lm_ln_b, k.data());
      std::vector<float> logits(Tt * kVocab);
      linear(residues, k.data(), D, W.lm_decoder_w, D, kVocab, logits.data(), kVocab, 0.f,
             BiasAfter{W.lm_bias, logits.data(), kVocab, false});
      for (size_t s = 0; s < S; ++s) {
        const float* rows = &logits[size_t(pb.off[s] + 1) * kVocab];
        out[s].logits.assign(rows, rows + size_t(out[s].n) * kVocab);
      }
    }
    if (req.contacts)
      for (size_t s = 0; s < S; ++s) {
        const float* acc = contact_sum.data() + coff[s];
        out[s].contacts.resize(coff[s + 1] - coff[s]);
        for (size_t i = 0; i < out[s].contacts.size(); ++i)
          out[s].contacts[i] = 1.0f / (1.0f + std::exp(-(acc[i] + W.contact_b)));
      }
    return out;
  }

  // In place: ch (the residue block of one head's probabilities, n x n) <- w * APC(ch + ch^T).
  static void contact_channel(float* ch, int n, float w) {
    for (int a = 0; a < n; ++a)
      for (int b = a; b < n; ++b) {
        const float sym = ch[size_t(a) * n + b] + ch[size_t(b) * n + a];
        ch[size_t(a) * n + b] = ch[size_t(b) * n + a] = sym;
      }
    std::vector<double> rowsum(size_t(n), 0.0);
    double total = 0;
    for (int a = 0; a < n; ++a) {
      double sum = 0;
      for (int b = 0; b < n; ++b) sum += ch[size_t(a) * n + b];
      rowsum[size_t(a)] = sum;
      total += sum;
    }
    const double inv_total = total != 0 ? 1.0 / total : 0.0;
    for (int a = 0; a < n; ++a) {
      float* ca = ch + size_t(a) * n;
      const double ra = rowsum[size_t(a)] * inv_total;
      for (int b = 0; b < n; ++b) ca[b] = w * float(double(ca[b]) - ra * rowsum[size_t(b)]);
    }
  }

  std::shared_ptr<const Model> model_;
  ThreadPool pool_;
  size_t max_tokens_;
  std::mutex mu_;
  std::map<std::vector<float>, std::vector<float>> rotary_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model, int threads, size_t max_tokens) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::make_unique<CpuBackend>(std::move(model), threads, max_tokens);
}

}  // namespace esm::embed
