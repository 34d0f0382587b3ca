#include "encoder/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "encoder/safetensors.hpp"

namespace esm::embed {

namespace fs = std::filesystem;

struct Model::Mapping {
  explicit Mapping(const std::string& path) : file(path) {}
  SafetensorsFile file;
};

Model::~Model() = default;

std::string Model::weights_sha256() const {
  std::call_once(sha_once_, [this] {
    Sha256 h;
    for (const auto& m : maps_) h.update(m->file.bytes(), m->file.size());
    sha_ = h.hex();
  });
  return sha_;
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

const json::Value& require(const json::Value& cfg, const std::string& key, const std::string& path) {
  const json::Value* v = cfg.find(key);
  if (!v || v->is_null()) fail(path, ": missing \"", key, "\"");
  return *v;
}

int positive_int(const json::Value& cfg, const std::string& key, const std::string& path) {
  const json::Value& v = require(cfg, key, path);
  if (v.type() != json::Value::Type::Int || v.as_int() <= 0 || v.as_int() > (1 << 24))
    fail(path, ": \"", key, "\" must be a positive integer, found ", v.dump());
  return int(v.as_int());
}

// HF config.json -> ModelConfig, refusing anything that is not an ESM-2 encoder we can run.
ModelConfig parse_hf_config(const std::string& path, const std::string& dir) {
  json::Value cfg = json::parse(read_file(path), path);
  if (!cfg.is_object()) fail(path, ": not a JSON object");
  ModelConfig c;
  c.num_layers = positive_int(cfg, "num_hidden_layers", path);
  c.hidden = positive_int(cfg, "hidden_size", path);
  c.heads = positive_int(cfg, "num_attention_heads", path);
  c.ffn = positive_int(cfg, "intermediate_size", path);
  c.vocab = positive_int(cfg, "vocab_size", path);
  if (c.vocab != 33) fail(path, ": vocab_size is ", c.vocab, "; ESM-2 uses the 33-token alphabet");
  if (c.hidden % c.heads != 0 || (c.hidden / c.heads) % 2 != 0)
    fail(path, ": hidden_size ", c.hidden, " is not num_attention_heads ", c.heads, " x an even head size");
  const json::Value& pos = require(cfg, "position_embedding_type", path);
  if (!pos.is_string() || pos.as_string() != "rotary")
    fail(path, ": position_embedding_type is ", pos.dump(), "; only \"rotary\" (ESM-2) is supported");
  // EsmConfig's class defaults (eps 1e-12, no token dropout) are NOT ESM-2's; a config without
  // these keys is suspicious, so say which default we apply.
  if (const json::Value* v = cfg.find("layer_norm_eps"); v && v->is_number()) {
    c.layer_norm_eps = float(v->as_double());
  } else {
    c.layer_norm_eps = 1e-12f;
    log::warn(path, ": no layer_norm_eps; using the EsmConfig default 1e-12 (ESM-2 checkpoints say 1e-05)");
  }
  if (const json::Value* v = cfg.find("token_dropout"); v && v->type() == json::Value::Type::Bool) {
    c.token_dropout = v->as_bool();
  } else {
    c.token_dropout = false;
    log::warn(path, ": no token_dropout; using the EsmConfig default false (ESM-2 checkpoints say true)");
  }
  if (const json::Value* v = cfg.find("emb_layer_norm_before"); v && v->type() == json::Value::Type::Bool && v->as_bool())
    fail(path, ": emb_layer_norm_before is true (ESM-1b layout); only ESM-2 is supported");
  if (const json::Value* v = cfg.find("hidden_act"); v && v->is_string() && v->as_string() != "gelu")
    fail(path, ": hidden_act is \"", v->as_string(), "\"; ESM-2 uses exact gelu");
  if (const json::Value* v = cfg.find("_name_or_path"); v && v->is_string() && !v->as_string().empty())
    c.name = v->as_string();
  else
    c.name = fs::path(dir).lexically_normal().filename().string();
  if (c.name.empty()) c.name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  return c;
}

}  // namespace

// Builds a Model: maps the files, resolves every tensor by name, checks shapes, converts dtypes.
class ModelLoader {
 public:
  explicit ModelLoader(Model& m) : m_(m) {}

  void open_files() {
    fs::path dir(m_.dir_);
    fs::path single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
    if (fs::exists(single)) {
      m_.files_.push_back(single.string());
    } else if (fs::exists(index)) {
      json::Value idx = json::parse(read_file(index), index.string());
      const json::Value* wm = idx.is_object() ? idx.find("weight_map") : nullptr;
      if (!wm || !wm->is_object()) fail(index.string(), ": no \"weight_map\" object");
      std::set<std::string> shards;
      for (const auto& [key, file] : wm->as_object()) {
        if (!file.is_string() || file.as_string().empty() ||
            fs::path(file.as_string()).filename().string() != file.as_string())
          fail(index.string(), ": weight_map entry for '", key, "' is not a file name in the model directory");
        shards.insert(file.as_string());
        shard_of_[key] = file.as_string();
      }
      if (shards.empty()) fail(index.string(), ": empty weight_map");
      for (const auto& s : shards) m_.files_.push_back((dir / s).string());  // std::set: byte-wise order
    } else {
      fail(m_.dir_, ": no model.safetensors or model.safetensors.index.json (pytorch_model.bin is not read; "
           "convert it with safetensors first)");
    }
    for (const auto& f : m_.files_) {
      m_.maps_.push_back(std::make_unique<Model::Mapping>(f));
      const SafetensorsFile& sf = m_.maps_.back()->file;
      std::string base = fs::path(f).filename().string();
      for (const auto& [name, info] : sf.tensors()) {
        if (auto it = shard_of_.find(name); it != shard_of_.end() && it->second != base) continue;
        auto [pos, fresh] = tensors_.emplace(name, &info);
        if (!fresh) fail(f, ": tensor '", name, "' is also in ", where_[name]);
        where_[name] = f;
      }
    }
    for (const auto& [key, file] : shard_of_)
      if (!tensors_.count(key)) problems_.push_back(str("'", key, "' is listed in the index for ", file, " but not stored there"));
  }

  const TensorInfo* lookup(const std::string& key, bool esm_prefix, std::string* found_as = nullptr) {
    std::vector<std::string> names;
    if (esm_prefix) names = {"esm." + key, key};
    else names = {key};
    for (const auto& n : names)
      if (auto it = tensors_.find(n); it != tensors_.end()) {
        if (found_as) *found_as = n;
        return it->second;
      }
    return nullptr;
  }

  // An F32 pointer to the tensor with this shape, or nullptr after recording the problem.
  const float* get(const std::string& key, std::vector<int64_t> shape, bool esm_prefix = true) {
    std::string name;
    const TensorInfo* t = lookup(key, esm_prefix, &name);
    std::string shown = esm_prefix ? "esm." + key : key;
    if (!t) {
      problems_.push_back(str("missing tensor ", shown, " (expected shape ", shape_str(shape), ")"));
      return nullptr;
    }
    return as_f32(*t, name, shape);
  }

  const float* as_f32(const TensorInfo& t, const std::string& name, const std::vector<int64_t>& shape) {
    if (t.shape != shape) {
      problems_.push_back(str("tensor ", name, " has shape ", shape_str(t.shape), ", expected ", shape_str(shape)));
      return nullptr;
    }
    if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16") {
      problems_.push_back(str("tensor ", name, " has dtype ", t.dtype, "; F32, F16 or BF16 expected"));
      return nullptr;
    }
    size_t n = t.bytes / dtype_size(t.dtype);
    // Aligned F32 is used in place (the mapping stays alive as long as the Model).
    if (t.dtype == "F32" && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
      return reinterpret_cast<const float*>(t.data);
    m_.owned_.emplace_back(n);
    convert_to_f32(t.dtype, t.data, n, m_.owned_.back().data());
    return m_.owned_.back().data();
  }

  void load_weights() {
    const ModelConfig& c = m_.config_;
    const int64_t D = c.hidden, F = c.ffn, L = c.num_layers, H = c.heads, hd = c.head_dim();
    ModelWeights& w = m_.weights_;
    w.word_embeddings = get("embeddings.word_embeddings.weight", {c.vocab, D});
    w.layers.resize(size_t(L));
    for (int64_t i = 0; i < L; ++i) {
      LayerWeights& lw = w.layers[size_t(i)];
      std::string p = str("encoder.layer.", i, ".");
      lw.attn_ln_w = get(p + "attention.LayerNorm.weight", {D});
      lw.attn_ln_b = get(p + "attention.LayerNorm.bias", {D});
      lw.wq = get(p + "attention.self.query.weight", {D, D});
      lw.bq = get(p + "attention.self.query.bias", {D});
      lw.wk = get(p + "attention.self.key.weight", {D, D});
      lw.bk = get(p + "attention.self.key.bias", {D});
      lw.wv = get(p + "attention.self.value.weight", {D, D});
      lw.bv = get(p + "attention.self.value.bias", {D});
      lw.wo = get(p + "attention.output.dense.weight", {D, D});
      lw.bo = get(p + "attention.output.dense.bias", {D});
      lw.ffn_ln_w = get(p + "LayerNorm.weight", {D});
      lw.ffn_ln_b = get(p + "LayerNorm.bias", {D});
      lw.w1 = get(p + "intermediate.dense.weight", {F, D});
      lw.b1 = get(p + "intermediate.dense.bias", {F});
      lw.w2 = get(p + "output.dense.weight", {D, F});
      lw.b2 = get(p + "output.dense.bias", {D});
      std::string name;
      if (const TensorInfo* t = lookup(p + "attention.self.rotary_embeddings.inv_freq", true, &name)) {
        if (const float* f = as_f32(*t, name, {hd / 2})) {
          lw.inv_freq.assign(f, f + hd / 2);
          lw.inv_freq_from_file = true;
        }
      } else {
        // The released checkpoints hold fp16-rounded values (spec section 5); match them.
        lw.inv_freq.resize(size_t(hd / 2));
        for (int64_t k = 0; k < hd / 2; ++k)
          lw.inv_freq[size_t(k)] = half_to_float(float_to_half(float(1.0 / std::pow(10000.0, double(2 * k) / double(hd)))));
      }
    }
    w.final_ln_w = get("encoder.emb_layer_norm_after.weight", {D});
    w.final_ln_b = get("encoder.emb_layer_norm_after.bias", {D});
    w.contact_w = get("contact_head.regression.weight", {1, L * H});
    if (const float* b = get("contact_head.regression.bias", {1})) w.contact_b = b[0];

    // The LM head is all or nothing: EsmModel saves have none, EsmForMaskedLM saves all of it
    // (the decoder may be left out because it is tied to the word embeddings).
    const std::vector<std::string> lm = {"lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight",
                                         "lm_head.layer_norm.bias", "lm_head.bias"};
    bool any = false;
    for (const auto& k : lm) any = any || lookup(k, false);
    if (any) {
      w.has_lm_head = true;
      w.lm_dense_w = get("lm_head.dense.weight", {D, D}, false);
      w.lm_dense_b = get("lm_head.dense.bias", {D}, false);
      w.lm_ln_w = get("lm_head.layer_norm.weight", {D}, false);
      w.lm_ln_b = get("lm_head.layer_norm.bias", {D}, false);
      w.lm_bias = get("lm_head.bias", {c.vocab}, false);
      if (lookup("lm_head.decoder.weight", false))
        w.lm_decoder_w = get("lm_head.decoder.weight", {c.vocab, D}, false);
      else
        w.lm_decoder_w = w.word_embeddings;
    }
    if (!problems_.empty()) {
      std::string msg = str(m_.dir_, ": the checkpoint does not fit the ESM-2 shape in config.json (L=", L,
                            ", D=", D, ", H=", H, ", F=", F, "):");
      for (const auto& p : problems_) msg += "\n  " + p;
      throw Error(msg);
    }
  }

 private:
  Model& m_;
  std::map<std::string, std::string> shard_of_;  // from the index: key -> shard file name
  std::map<std::string, const TensorInfo*> tensors_;
  std::map<std::string, std::string> where_;
  std::vector<std::string> problems_;
};

std::shared_ptr<const Model> Model::load(const std::string& dir) {
  if (!fs::is_directory(dir)) fail(dir, ": not a model directory");
  std::shared_ptr<Model> m(new Model());
  m->dir_ = dir;
  m->config_ = parse_hf_config((fs::path(dir) / "config.json").string(), dir);
  ModelLoader loader(*m);
  loader.open_files();
  loader.load_weights();
  return m;
}

ModelCard read_model_card(const std::string& path) {
  json::Value v = json::parse(read_file(path), path);
  if (!v.is_object()) fail(path, ": not a JSON object");
  ModelCard card;
  ModelConfig& c = card.config;
  c.name = require(v, "name", path).as_string();
  c.num_layers = positive_int(v, "num_layers", path);
  c.hidden = positive_int(v, "hidden", path);
  c.heads = positive_int(v, "heads", path);
  c.ffn = positive_int(v, "ffn", path);
  c.vocab = positive_int(v, "vocab", path);
  c.layer_norm_eps = float(require(v, "layer_norm_eps", path).as_double());
  c.token_dropout = require(v, "token_dropout", path).as_bool();
  card.hub_name = require(v, "hub_name", path).as_string();
  if (const json::Value* s = v.find("safetensors_sha256"); s && s->is_string()) card.safetensors_sha256 = s->as_string();
  if (const json::Value* s = v.find("safetensors_bytes"); s && s->is_number()) card.safetensors_bytes = uint64_t(s->as_int());
  if (c.hidden % c.heads != 0) fail(path, ": hidden ", c.hidden, " is not a multiple of heads ", c.heads);
  return card;
}

}  // namespace esm::embed
