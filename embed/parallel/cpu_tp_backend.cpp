#include "parallel/cpu_tp_backend.hpp"

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "encoder/backends.hpp"
#include "encoder/tokenizer.hpp"
#include "encoder/reference_ops.hpp"
#include "parallel/tp_split.hpp"

namespace esm::embed::parallel {

namespace {

class CpuTpBackend final : public Backend {
 public:
  CpuTpBackend(std::shared_ptr<const Model> model, const TpGroup& group)
      : model_(std::move(model)), comm_(group.comm),
        split_(make_tp_split(model_->config(), group.tp_rank, group.tp_size)) {
    if (comm_ == MPI_COMM_NULL) fail("CPU tensor-parallel backend: no group communicator");
    for (const LayerWeights& lw : model_->weights().layers) shards_.push_back(shard_layer(lw, split_));
  }

  std::vector<SequenceOutput> forward(const std::vector<std::vector<int32_t>>& tokens,
                                      const OutputRequest& req) override {
    std::vector<int> layers = check_forward_input(tokens, req, *model_);
    if (req.contacts && !model_->weights().contact_w)
      fail(model_->dir(), ": contacts requested but the checkpoint has no contact regression weights");
    std::vector<SequenceOutput> out;
    out.reserve(tokens.size());
    for (const auto& t : tokens) out.push_back(forward_one(t, layers, req));
    return out;
  }

 private:
  // x += allreduce(partial): the lead rank's partial already holds the bias.
  void reduce_into(std::vector<double>& partial, std::vector<float>& x) {
    MPI_Allreduce(MPI_IN_PLACE, partial.data(), static_cast<int>(partial.size()), MPI_DOUBLE, MPI_SUM, comm_);
    for (size_t i = 0; i < x.size(); ++i) x[i] += float(partial[i]);
  }

  SequenceOutput forward_one(const std::vector<int32_t>& tok, const std::vector<int>& layers,
                             const OutputRequest& req);

  std::shared_ptr<const Model> model_;
  MPI_Comm comm_;
  TpSplit split_;
  std::vector<LayerShard> shards_;
};

SequenceOutput CpuTpBackend::forward_one(const std::vector<int32_t>& tok, const std::vector<int>& layers,
                                         const OutputRequest& req) {
  const ModelConfig& c = model_->config();
  const ModelWeights& W = model_->weights();
  const int T = int(tok.size()), n = T - 2, D = c.hidden, hd = c.head_dim(), L = c.num_layers, H = c.heads;
  const int Hl = split_.heads_local, Dl = split_.local_width(), Fl = split_.ffn_local;
  const float eps = c.layer_norm_eps;
  const bool lead = split_.adds_bias();

  SequenceOutput out;
  out.n = n;
  out.layers.resize(layers.size());
  out.means.resize(layers.size());
  auto keep = [&](int rep, const std::vector<float>& x) {
    for (size_t r = 0; r < layers.size(); ++r)
      if (layers[r] == rep) ref::residue_rows_and_mean(x.data() + D, n, D, out.layers[r], out.means[r]);
  };

  // Embedding and token dropout are not split (every rank computes them).
  std::vector<float> x(size_t(T) * D);
  ref::embed_tokens(tok.data(), T, W.word_embeddings, D, c.token_dropout, x.data());
  keep(0, x);

  std::vector<float> h(size_t(T) * D), qkv(size_t(T) * 3 * Dl), o(size_t(T) * Dl), ff(size_t(T) * Fl);
  std::vector<double> wide(size_t(T) * std::max(3 * Dl, Fl)), partial(size_t(T) * D), probs, contact_acc;
  if (req.contacts) contact_acc.assign(size_t(n) * n, 0.0);
  const float scaling = 1.0f / std::sqrt(float(hd));

  for (int l = 0; l < L; ++l) {
    const LayerWeights& lw = W.layers[size_t(l)];
    const LayerShard& s = shards_[size_t(l)];
    // Column-parallel QKV of this rank's heads: [T, q | k | v] with Dl features each.
    ref::layernorm(x.data(), lw.attn_ln_w, lw.attn_ln_b, h.data(), T, D, eps);
    ref::linear(h.data(), s.wqkv.data(), s.bqkv.data(), wide.data(), T, D, 3 * Dl);
    for (size_t i = 0; i < size_t(T) * 3 * Dl; ++i) qkv[i] = float(wide[i]);
    const int ld = 3 * Dl;
    for (int t = 0; t < T; ++t) {
      float* row = &qkv[size_t(t) * ld];
      for (int i = 0; i < Dl; ++i) row[i] *= scaling;
      for (int j = 0; j < Hl; ++j) {
        ref::rotate(row + size_t(j) * hd, hd, t, lw.inv_freq);
        ref::rotate(row + Dl + size_t(j) * hd, hd, t, lw.inv_freq);
      }
    }
    for (int j = 0; j < Hl; ++j) {
      ref::attention_head(&qkv[size_t(j) * hd], &qkv[Dl + size_t(j) * hd], &qkv[2 * Dl + size_t(j) * hd], ld,
                          &o[size_t(j) * hd], Dl, T, hd, probs);
      if (req.contacts && n > 0)
        ref::add_contact_channel(ref::residue_attention(probs, T), n,
                                 W.contact_w[size_t(l) * H + split_.head_begin + j], contact_acc);
    }
    // Row-parallel output projection, then one all-reduce into the residual stream.
    ref::linear(o.data(), s.wo.data(), lead ? s.bo.data() : nullptr, partial.data(), T, Dl, D);
    reduce_into(partial, x);

    ref::layernorm(x.data(), lw.ffn_ln_w, lw.ffn_ln_b, h.data(), T, D, eps);
    ref::linear(h.data(), s.w1.data(), s.b1.data(), wide.data(), T, D, Fl);
    for (size_t i = 0; i < size_t(T) * Fl; ++i) ff[i] = ref::gelu(float(wide[i]));
    ref::linear(ff.data(), s.w2.data(), lead ? s.b2.data() : nullptr, partial.data(), T, Fl, D);
    reduce_into(partial, x);
    if (l + 1 < L) keep(l + 1, x);
  }

  // Final LayerNorm and the LM head are replicated (small); contacts are summed over the group.
  ref::layernorm(x.data(), W.final_ln_w, W.final_ln_b, h.data(), T, D, eps);
  keep(L, h);
  if (req.logits) {
    std::vector<double> zd(size_t(T) * D), lgd(size_t(T) * kVocab);
    std::vector<float> z(size_t(T) * D), zn(size_t(T) * D);
    ref::linear(h.data(), W.lm_dense_w, W.lm_dense_b, zd.data(), T, D, D);
    for (size_t i = 0; i < z.size(); ++i) z[i] = ref::gelu(float(zd[i]));
    ref::layernorm(z.data(), W.lm_ln_w, W.lm_ln_b, zn.data(), T, D, eps);
    ref::linear(zn.data(), W.lm_decoder_w, W.lm_bias, lgd.data(), T, D, kVocab);
    out.logits.resize(size_t(n) * kVocab);
    for (size_t i = 0; i < out.logits.size(); ++i) out.logits[i] = float(lgd[size_t(kVocab) + i]);
  }
  if (req.contacts) {
    MPI_Allreduce(MPI_IN_PLACE, contact_acc.data(), static_cast<int>(contact_acc.size()), MPI_DOUBLE, MPI_SUM, comm_);
    out.contacts = ref::contact_probabilities(contact_acc, W.contact_b);
  }
  return out;
}

}  // namespace

std::unique_ptr<Backend> make_cpu_tp_backend(std::shared_ptr<const Model> model, const TpGroup& group) {
  return std::make_unique<CpuTpBackend>(std::move(model), group);
}

}  // namespace esm::embed::parallel
