// An ESM-2 checkpoint in the HuggingFace layout (config.json + safetensors), loaded once and
// shared read-only by every backend. The spec is /work/shared/docs/esm2-forward.md (sections 3-5).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace esm::embed {

struct ModelConfig {
  std::string name;
  int num_layers = 0, hidden = 0, heads = 0, ffn = 0, vocab = 33;
  float layer_norm_eps = 1e-5f;
  bool token_dropout = true;

  int head_dim() const { return heads > 0 ? hidden / heads : 0; }
};

// A model shape from configs/models/<name>.json (layers, hidden, heads, ffn, hub name, ...).
// Used by the benchmark's random-weight generator and to check a downloaded checkpoint.
struct ModelCard {
  ModelConfig config;
  std::string hub_name;           // e.g. facebook/esm2_t6_8M_UR50D
  std::string safetensors_sha256;  // of the hub model.safetensors; empty when not recorded
  uint64_t safetensors_bytes = 0;  // 0 when not recorded
};
ModelCard read_model_card(const std::string& path);

// Weights of one transformer layer; every pointer is F32, row-major, PyTorch [out, in] for
// linear weights. Pointers point into the file mapping when the tensor is stored as aligned F32,
// otherwise into converted copies owned by the Model.
struct LayerWeights {
  const float* attn_ln_w = nullptr;  // [D]   pre-attention LayerNorm
  const float* attn_ln_b = nullptr;  // [D]
  const float* wq = nullptr;         // [D, D]
  const float* bq = nullptr;         // [D]
  const float* wk = nullptr;
  const float* bk = nullptr;
  const float* wv = nullptr;
  const float* bv = nullptr;
  const float* wo = nullptr;         // [D, D] attention output projection
  const float* bo = nullptr;
  const float* ffn_ln_w = nullptr;   // [D]   pre-FFN LayerNorm
  const float* ffn_ln_b = nullptr;
  const float* w1 = nullptr;         // [F, D]
  const float* b1 = nullptr;         // [F]
  const float* w2 = nullptr;         // [D, F]
  const float* b2 = nullptr;         // [D]
  std::vector<float> inv_freq;       // [hd/2] rotary frequencies (stored buffer, or fp16-rounded default)
  bool inv_freq_from_file = false;
};

struct ModelWeights {
  const float* word_embeddings = nullptr;  // [33, D]
  std::vector<LayerWeights> layers;
  const float* final_ln_w = nullptr;       // [D] emb_layer_norm_after
  const float* final_ln_b = nullptr;
  const float* contact_w = nullptr;        // [L*H] regression weight (channel = layer*H + head)
  float contact_b = 0.f;
  bool has_lm_head = false;                // EsmModel saves have no lm_head
  const float* lm_dense_w = nullptr;       // [D, D]
  const float* lm_dense_b = nullptr;       // [D]
  const float* lm_ln_w = nullptr;          // [D]
  const float* lm_ln_b = nullptr;          // [D]
  const float* lm_decoder_w = nullptr;     // [33, D] (word embeddings when lm_head.decoder is absent)
  const float* lm_bias = nullptr;          // [33]
};

class Model {
 public:
  // dir holds config.json and model.safetensors or model.safetensors.index.json (+ shards).
  // Throws esm::Error naming the file and the problem (every missing / mis-shaped tensor at once).
  static std::shared_ptr<const Model> load(const std::string& dir);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const std::string& dir() const { return dir_; }
  // The weight files in hashing order: the single model.safetensors, or the shards named by
  // the index sorted by file name (byte-wise).
  const std::vector<std::string>& weight_files() const { return files_; }
  // sha256 (hex) of the bytes of weight_files() concatenated in that order. Computed on first
  // call (it reads every byte) and cached; thread-safe.
  std::string weights_sha256() const;

 private:
  Model() = default;
  struct Mapping;
  ModelConfig config_;
  ModelWeights weights_;
  std::string dir_;
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<Mapping>> maps_;
  std::vector<std::vector<float>> owned_;  // converted (F16/BF16/unaligned) tensors
  mutable std::once_flag sha_once_;
  mutable std::string sha_;
  friend class ModelLoader;
};

}  // namespace esm::embed
