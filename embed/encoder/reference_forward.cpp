// The reference ESM-2 forward pass: one sequence at a time, plain loops (reference_ops.cpp), following
// /work/shared/docs/esm2-forward.md section 2 step by step. Activations are stored in float
// (as the fp32 reference does); every sum (dot products, LayerNorm moments, softmax, contacts)
// is accumulated in double so this file is the most accurate thing we have to compare against.
// Slow on purpose: the fast backend (cpu_backend.cpp) is tested against it.
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "encoder/backends.hpp"
#include "encoder/reference_ops.hpp"
#include "encoder/tokenizer.hpp"

namespace esm::embed {

namespace {

SequenceOutput forward_one(const Model& model, const std::vector<int32_t>& tok, const std::vector<int>& layers,
                           const OutputRequest& req) {
  const ModelConfig& c = model.config();
  const ModelWeights& W = model.weights();
  const int T = int(tok.size()), n = T - 2, D = c.hidden, H = c.heads, hd = c.head_dim(), F = c.ffn;
  const int L = c.num_layers;
  const float eps = c.layer_norm_eps;

  SequenceOutput out;
  out.n = n;
  out.layers.resize(layers.size());
  out.means.resize(layers.size());
  // Copies representation k (residue rows 1..n) into every requested slot that asks for it.
  auto keep = [&](int k, const std::vector<float>& x) {
    for (size_t r = 0; r < layers.size(); ++r)
      if (layers[r] == k) ref::residue_rows_and_mean(x.data() + D, n, D, out.layers[r], out.means[r]);
  };

  // 1-3. Embedding, token dropout scaling (applied at inference too), no padding here.
  std::vector<float> x(size_t(T) * D);
  ref::embed_tokens(tok.data(), T, W.word_embeddings, D, c.token_dropout, x.data());
  keep(0, x);

  std::vector<float> h(size_t(T) * D), q(size_t(T) * D), k(size_t(T) * D), v(size_t(T) * D), o(size_t(T) * D);
  std::vector<float> proj(size_t(T) * D), ff(size_t(T) * F);
  std::vector<double> probs(size_t(T) * T), contact_acc;
  if (req.contacts) contact_acc.assign(size_t(n) * n, 0.0);
  const float scaling = 1.0f / std::sqrt(float(hd));

  // 4. Transformer layers (pre-LN).
  for (int l = 0; l < L; ++l) {
    const LayerWeights& lw = W.layers[size_t(l)];
    ref::layernorm(x.data(), lw.attn_ln_w, lw.attn_ln_b, h.data(), T, D, eps);
    ref::linear(h.data(), lw.wq, lw.bq, q.data(), T, D, D);
    ref::linear(h.data(), lw.wk, lw.bk, k.data(), T, D, D);
    ref::linear(h.data(), lw.wv, lw.bv, v.data(), T, D, D);
    for (float& e : q) e *= scaling;  // scaled before rotary, as fair-esm does
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < H; ++j) {
        ref::rotate(&q[size_t(t) * D + size_t(j) * hd], hd, t, lw.inv_freq);
        ref::rotate(&k[size_t(t) * D + size_t(j) * hd], hd, t, lw.inv_freq);
      }
    for (int j = 0; j < H; ++j) {
      // softmax(q k^T) over keys, then o = probs v, for this head's features.
      ref::attention_head(&q[size_t(j) * hd], &k[size_t(j) * hd], &v[size_t(j) * hd], D, &o[size_t(j) * hd], D, T,
                          hd, probs);
      // 7. Contacts: channel l*H+j is this head's attention map on residues (cls/eos dropped).
      if (req.contacts && n > 0)
        ref::add_contact_channel(ref::residue_attention(probs, T), n, W.contact_w[size_t(l) * H + j], contact_acc);
    }
    ref::linear(o.data(), lw.wo, lw.bo, proj.data(), T, D, D);
    for (size_t i = 0; i < x.size(); ++i) x[i] += proj[i];

    ref::layernorm(x.data(), lw.ffn_ln_w, lw.ffn_ln_b, h.data(), T, D, eps);
    ref::linear(h.data(), lw.w1, lw.b1, ff.data(), T, D, F);
    for (float& e : ff) e = ref::gelu(e);
    ref::linear(ff.data(), lw.w2, lw.b2, proj.data(), T, F, D);
    for (size_t i = 0; i < x.size(); ++i) x[i] += proj[i];
    if (l + 1 < L) keep(l + 1, x);
  }

  // 5. Final LayerNorm: representation L.
  ref::layernorm(x.data(), W.final_ln_w, W.final_ln_b, h.data(), T, D, eps);
  keep(L, h);

  // 6. LM head on residue rows: LN(gelu(x Wd^T + bd)) E^T + b.
  if (req.logits) {
    std::vector<float> z(size_t(T) * D), zn(size_t(T) * D), lg(size_t(T) * kVocab);
    ref::linear(h.data(), W.lm_dense_w, W.lm_dense_b, z.data(), T, D, D);
    for (float& e : z) e = ref::gelu(e);
    ref::layernorm(z.data(), W.lm_ln_w, W.lm_ln_b, zn.data(), T, D, eps);
    ref::linear(zn.data(), W.lm_decoder_w, W.lm_bias, lg.data(), T, D, kVocab);
    out.logits.assign(lg.begin() + kVocab, lg.begin() + size_t(n + 1) * kVocab);
  }
  if (req.contacts) out.contacts = ref::contact_probabilities(contact_acc, W.contact_b);
  return out;
}

class ReferenceBackend final : public Backend {
 public:
  explicit ReferenceBackend(std::shared_ptr<const Model> m) : model_(std::move(m)) {}
  std::vector<SequenceOutput> forward(const std::vector<std::vector<int32_t>>& tokens,
                                      const OutputRequest& req) override {
    std::vector<int> layers = check_forward_input(tokens, req, *model_);
    std::vector<SequenceOutput> out;
    out.reserve(tokens.size());
    for (const auto& t : tokens) out.push_back(forward_one(*model_, t, layers, req));
    return out;
  }

 private:
  std::shared_ptr<const Model> model_;
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend(std::shared_ptr<const Model> model) {
  return std::make_unique<ReferenceBackend>(std::move(model));
}

}  // namespace esm::embed
