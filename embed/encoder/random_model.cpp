#include "encoder/random_model.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "encoder/safetensors.hpp"

namespace esm::embed {

namespace {

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(double(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0); }  // [-1, 1)
};

std::string encode(const std::vector<float>& v, const std::string& dtype) {
  std::string out;
  if (dtype == "F32") {
    out.resize(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
  } else if (dtype == "F16" || dtype == "BF16") {
    out.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t h;
      if (dtype == "F16") {
        h = float_to_half(v[i]);
      } else {  // bf16: round to nearest even on the upper 16 bits
        uint32_t b;
        std::memcpy(&b, &v[i], 4);
        b += 0x7fff + ((b >> 16) & 1);
        h = uint16_t(b >> 16);
      }
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  } else {
    fail("write_random_model: dtype ", dtype, " is not F32, F16 or BF16");
  }
  return out;
}

}  // namespace

void write_random_model(const std::string& dir, const ModelConfig& c, uint64_t seed, const std::string& dtype) {
  std::filesystem::create_directories(dir);
  SplitMix rng{seed};
  std::vector<TensorBytes> tensors;
  const int64_t D = c.hidden, F = c.ffn, hd = c.head_dim();
  // Uniform in [center - scale, center + scale): PyTorch's Linear init scale keeps activations O(1).
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float center, float scale) {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    std::vector<float> v(n);
    for (float& x : v) x = center + scale * rng.uniform();
    tensors.push_back({name, dtype, shape, encode(v, dtype)});
    return v;
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in) {
    float s = 1.0f / std::sqrt(float(in));
    add(name + ".weight", {out, in}, 0.f, s);
    add(name + ".bias", {out}, 0.f, s);
  };
  auto layernorm = [&](const std::string& name, int64_t d) {
    add(name + ".weight", {d}, 1.f, 0.2f);
    add(name + ".bias", {d}, 0.f, 0.2f);
  };
  std::vector<float> emb = add("esm.embeddings.word_embeddings.weight", {c.vocab, D}, 0.f, 1.7f);
  for (int i = 0; i < c.num_layers; ++i) {
    std::string p = str("esm.encoder.layer.", i, ".");
    layernorm(p + "attention.LayerNorm", D);
    linear(p + "attention.self.query", D, D);
    linear(p + "attention.self.key", D, D);
    linear(p + "attention.self.value", D, D);
    linear(p + "attention.output.dense", D, D);
    layernorm(p + "LayerNorm", D);
    linear(p + "intermediate.dense", F, D);
    linear(p + "output.dense", D, F);
    // As in the released checkpoints: fp16-rounded 1/10000^(2i/hd), stored in F32.
    std::vector<float> inv(static_cast<size_t>(hd / 2));
    for (int64_t k = 0; k < hd / 2; ++k)
      inv[size_t(k)] = half_to_float(float_to_half(float(1.0 / std::pow(10000.0, double(2 * k) / double(hd)))));
    tensors.push_back({p + "attention.self.rotary_embeddings.inv_freq", "F32", {hd / 2}, encode(inv, "F32")});
  }
  layernorm("esm.encoder.emb_layer_norm_after", D);
  add("esm.contact_head.regression.weight", {1, int64_t(c.num_layers) * c.heads}, 0.f,
      1.0f / std::sqrt(float(c.num_layers * c.heads)));
  add("esm.contact_head.regression.bias", {1}, 0.f, 0.5f);
  linear("lm_head.dense", D, D);
  layernorm("lm_head.layer_norm", D);
  tensors.push_back({"lm_head.decoder.weight", dtype, {c.vocab, D}, encode(emb, dtype)});
  add("lm_head.bias", {c.vocab}, 0.f, 0.5f);
  write_safetensors(dir + "/model.safetensors", tensors);

  json::Value cfg = json::Object{};
  cfg["_name_or_path"] = c.name;
  cfg["architectures"] = json::Array{json::Value("EsmForMaskedLM")};
  cfg["emb_layer_norm_before"] = false;
  cfg["hidden_act"] = "gelu";
  cfg["hidden_size"] = c.hidden;
  cfg["intermediate_size"] = c.ffn;
  cfg["layer_norm_eps"] = std::stod(str(std::setprecision(7), c.layer_norm_eps));  // 1e-05, not 9.99999974e-06
  cfg["mask_token_id"] = 32;
  cfg["max_position_embeddings"] = 1026;
  cfg["model_type"] = "esm";
  cfg["num_attention_heads"] = c.heads;
  cfg["num_hidden_layers"] = c.num_layers;
  cfg["pad_token_id"] = 1;
  cfg["position_embedding_type"] = "rotary";
  cfg["token_dropout"] = c.token_dropout;
  cfg["torch_dtype"] = dtype == "F32" ? "float32" : dtype == "F16" ? "float16" : "bfloat16";
  cfg["vocab_size"] = c.vocab;
  write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n", true);
}

}  // namespace esm::embed
