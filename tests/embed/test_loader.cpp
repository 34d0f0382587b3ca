// Checkpoint loading: layouts we must accept (prefixes, shards, dtypes, tied decoder, missing
// inv_freq, unaligned data) give the same model; corrupt or mis-shaped files give a clear
// esm::Error naming the problem, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/sha256.hpp"
#include "encoder/backend.hpp"
#include "encoder/safetensors.hpp"
#include "test_util.hpp"

namespace esm::embed::test {
namespace {

namespace fs = std::filesystem;

std::vector<TensorBytes> golden_tensors() {
  SafetensorsFile f(golden_dir() + "/model.safetensors");
  std::vector<TensorBytes> out;
  for (const auto& [name, t] : f.tensors())
    out.push_back({name, t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.bytes)});
  return out;
}

// A scratch model directory holding the golden config.json; removed when the test process ends.
std::string fresh_dir(const std::string& name) {
  static struct Root {
    fs::path path = fs::path(::testing::TempDir()) / str("esm_encoder_loader_", getpid());
    ~Root() { fs::remove_all(path); }
  } root;
  fs::path d = root.path / name;
  fs::remove_all(d);
  fs::create_directories(d);
  fs::copy_file(golden_dir() + "/config.json", d / "config.json");
  return d.string();
}

std::string model_with(const std::string& name, const std::vector<TensorBytes>& tensors, size_t align = 8) {
  std::string d = fresh_dir(name);
  write_safetensors(d + "/model.safetensors", tensors, align);
  return d;
}

// Everything the golden model computes for two sequences (one with a masked token).
std::vector<SequenceOutput> outputs(const std::string& dir) {
  auto backend = make_backend("cpu", Model::load(dir), 1);
  OutputRequest req{{0, 1, 2}, true, true};
  return backend->forward({{0, 5, 6, 7, 8, 9, 10, 2}, {0, 20, 32, 4, 13, 2}}, req);
}

void expect_same(const std::vector<SequenceOutput>& a, const std::vector<SequenceOutput>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].layers, b[s].layers);
    EXPECT_EQ(a[s].means, b[s].means);
    EXPECT_EQ(a[s].logits, b[s].logits);
    EXPECT_EQ(a[s].contacts, b[s].contacts);
  }
}

std::string load_error(const std::string& dir) {
  try {
    Model::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Loader, GoldenModelConfigAndHash) {
  auto m = Model::load(golden_dir());
  EXPECT_EQ(m->config().num_layers, 2);
  EXPECT_EQ(m->config().hidden, 64);
  EXPECT_EQ(m->config().heads, 4);
  EXPECT_EQ(m->config().ffn, 256);
  EXPECT_FLOAT_EQ(m->config().layer_norm_eps, 1e-5f);
  EXPECT_TRUE(m->config().token_dropout);
  EXPECT_TRUE(m->weights().has_lm_head);
  EXPECT_TRUE(m->weights().layers[0].inv_freq_from_file);
  // manifest.json's sha256 of model.safetensors
  EXPECT_EQ(m->weights_sha256(), "359ab294cac7e91fb701a0436ecc71d2521c442d6f45bfc97e6ea89787010484");
  // Aligned F32 tensors are used in place, inside the mapping.
  SafetensorsFile f(golden_dir() + "/model.safetensors");
  EXPECT_NE(m->weights().word_embeddings, nullptr);
}

TEST(Loader, AcceptedLayoutsGiveIdenticalOutputs) {
  const auto base = outputs(golden_dir());
  auto tensors = golden_tensors();

  // No "esm." prefix (EsmModel-style keys), unknown extra keys, no position table.
  std::vector<TensorBytes> renamed;
  for (auto t : tensors) {
    if (t.name.find("position_embeddings") != std::string::npos) continue;
    if (t.name.rfind("esm.", 0) == 0) t.name = t.name.substr(4);
    renamed.push_back(t);
  }
  renamed.push_back({"pooler.dense.weight", "F32", {2}, std::string(8, '\0')});
  renamed.push_back({"esm.embeddings.position_ids", "I64", {1, 3}, std::string(24, '\0')});
  expect_same(outputs(model_with("noprefix", renamed)), base);

  // lm_head.decoder absent: tied to the word embeddings.
  std::vector<TensorBytes> untied;
  for (const auto& t : tensors)
    if (t.name != "lm_head.decoder.weight") untied.push_back(t);
  expect_same(outputs(model_with("tied", untied)), base);

  // inv_freq absent: the fp16-rounded default equals what the golden file stores.
  std::vector<TensorBytes> no_inv;
  for (const auto& t : tensors)
    if (t.name.find("inv_freq") == std::string::npos) no_inv.push_back(t);
  auto m = Model::load(model_with("noinvfreq", no_inv));
  EXPECT_FALSE(m->weights().layers[1].inv_freq_from_file);
  EXPECT_EQ(m->weights().layers[1].inv_freq, Model::load(golden_dir())->weights().layers[1].inv_freq);
  expect_same(outputs(model_with("noinvfreq", no_inv)), base);

  // Data not 4-byte aligned (no header padding, odd-sized filler tensor first): copied, same values.
  std::vector<TensorBytes> odd = tensors;
  odd.insert(odd.begin(), TensorBytes{"zz_filler", "U8", {3}, "abc"});
  std::string odd_dir = model_with("unaligned", odd, 1);
  expect_same(outputs(odd_dir), base);

  // Sharded: two files and an index; the hash covers the shards in file-name order.
  std::string d = fresh_dir("sharded");
  std::vector<TensorBytes> a(tensors.begin(), tensors.begin() + 20), b(tensors.begin() + 20, tensors.end());
  write_safetensors(d + "/model-00002-of-00002.safetensors", a);
  write_safetensors(d + "/model-00001-of-00002.safetensors", b);
  json::Value idx = json::Object{};
  idx["metadata"] = json::Object{};
  for (const auto& t : a) idx["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  for (const auto& t : b) idx["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  write_file_atomic(d + "/model.safetensors.index.json", idx.dump(2), true);
  expect_same(outputs(d), base);
  auto sharded = Model::load(d);
  ASSERT_EQ(sharded->weight_files().size(), 2u);
  EXPECT_EQ(sharded->weights_sha256(), sha256_hex(read_file(d + "/model-00001-of-00002.safetensors") +
                                                  read_file(d + "/model-00002-of-00002.safetensors")));
}

TEST(Loader, HalfPrecisionFilesEqualTheirF32Values) {
  // F16 and BF16 files give exactly what F32 files holding the same (rounded) values give.
  for (std::string dtype : {"F16", "BF16"}) {
    std::vector<TensorBytes> low, wide;
    for (const auto& t : golden_tensors()) {
      size_t n = t.bytes.size() / 4;
      std::vector<float> v(n);
      std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
      std::string lo(n * 2, '\0');
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        if (dtype == "F16") {
          h = float_to_half(v[i]);
        } else {
          uint32_t bits;
          std::memcpy(&bits, &v[i], 4);
          h = uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
        }
        std::memcpy(lo.data() + 2 * i, &h, 2);
      }
      std::vector<float> back(n);
      convert_to_f32(dtype, reinterpret_cast<const uint8_t*>(lo.data()), n, back.data());
      low.push_back({t.name, dtype, t.shape, lo});
      wide.push_back({t.name, "F32", t.shape, std::string(reinterpret_cast<const char*>(back.data()), n * 4)});
    }
    expect_same(outputs(model_with("low_" + dtype, low)), outputs(model_with("wide_" + dtype, wide)));
  }
  EXPECT_EQ(half_to_float(float_to_half(0.1f)), 0.0999755859375f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(float_to_half(65520.f), 0x7c00);  // rounds up to inf
}

TEST(Loader, MissingAndMisshapedTensorsAreAllNamed) {
  std::vector<TensorBytes> t;
  for (auto x : golden_tensors()) {
    if (x.name == "esm.encoder.layer.1.attention.self.key.weight") continue;
    if (x.name == "esm.contact_head.regression.weight") x.shape = {8, 1};
    if (x.name == "esm.encoder.layer.0.intermediate.dense.weight") x.shape = {64, 256};
    t.push_back(x);
  }
  std::string msg = load_error(model_with("misshaped", t));
  EXPECT_NE(msg.find("missing tensor esm.encoder.layer.1.attention.self.key.weight (expected shape [64, 64])"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor esm.contact_head.regression.weight has shape [8, 1], expected [1, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor esm.encoder.layer.0.intermediate.dense.weight has shape [64, 256], expected [256, 64]"),
            std::string::npos) << msg;
}

TEST(Loader, ConfigProblems) {
  std::string d = model_with("config", golden_tensors());
  json::Value cfg = json::parse(read_file(golden_dir() + "/config.json"));
  auto with = [&](const std::string& key, json::Value v) {
    json::Value c = cfg;
    c[key] = std::move(v);
    write_file_atomic(d + "/config.json", c.dump(), true);
    return load_error(d);
  };
  EXPECT_NE(with("position_embedding_type", "absolute").find("only \"rotary\""), std::string::npos);
  EXPECT_NE(with("vocab_size", 35).find("vocab_size is 35"), std::string::npos);
  EXPECT_NE(with("num_attention_heads", 5).find("num_attention_heads 5"), std::string::npos);
  {
    std::string msg = with("hidden_size", 96);  // every tensor mis-shaped: all named
    EXPECT_NE(msg.find("tensor esm.encoder.layer.1.attention.self.query.weight has shape [64, 64], expected [96, 96]"),
              std::string::npos) << msg;
  }
  EXPECT_NE(with("num_hidden_layers", "two").find("\"num_hidden_layers\" must be a positive integer"), std::string::npos);
  write_file_atomic(d + "/config.json", "{\"hidden_size\": 64,", true);
  EXPECT_NE(load_error(d).find("config.json"), std::string::npos);
  fs::remove(d + "/config.json");
  EXPECT_NE(load_error(d).find("config.json"), std::string::npos);
  EXPECT_NE(load_error(d + "/nonexistent").find("not a model directory"), std::string::npos);
  std::string empty = fresh_dir("noweights");
  EXPECT_NE(load_error(empty).find("no model.safetensors"), std::string::npos);
}

// Corrupt files: each gives an esm::Error whose text names the problem.
TEST(Loader, CorruptSafetensors) {
  std::string good = read_file(golden_dir() + "/model.safetensors");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(good[size_t(i)])) << (8 * i);
  std::string header = good.substr(8, n), data = good.substr(8 + n);
  auto le = [](uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
    return s;
  };
  auto with_header = [&](std::string h, const std::string& d) { return le(h.size()) + h + d; };
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  // The first tensor's offsets in the header, e.g. "data_offsets":[0,256]
  size_t p = header.find("\"data_offsets\":[");
  ASSERT_NE(p, std::string::npos);
  std::string first_offsets = header.substr(p, header.find(']', p) - p + 1);
  std::string first_dtype = "\"dtype\":\"F32\"";

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"short", "abc"},
      {"truncated", good.substr(0, good.size() / 2)},
      {"header too long", le(n + 1000000) + header + data},
      {"huge header", le(1ull << 40) + header},
      {"bad json", with_header(replace(header, "{", "["), data)},
      {"bad json 2", with_header(header.substr(0, header.size() - 10) + std::string(10, ' '), data)},
      {"outside", with_header(replace(header, first_offsets, "\"data_offsets\":[0,999999999]"), data)},
      {"overlap", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", std::string(12, 'x'))},
      {"gap", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", std::string(20, 'x'))},
      {"tail", good + "tail"},
      {"duplicate", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", std::string(8, 'x'))},
      {"dtype size", with_header(replace(header, first_dtype, "\"dtype\":\"F16\""), data)},
      {"unknown dtype", with_header(replace(header, first_dtype, "\"dtype\":\"Q4\""), data)},
      {"negative shape", with_header(replace(header, "\"shape\":[", "\"shape\":[-1,"), data)},
      {"not object", with_header("[1,2,3]", "")},
  };
  const std::vector<std::string> expect = {
      "shorter than the 8-byte header length", "truncated", "truncated", "corrupt safetensors header length",
      "corrupt safetensors header", "corrupt safetensors header", "outside the data", "overlap",
      "gap in tensor data at bytes [8, 12)", "tensors cover", "appears twice", "needs", "unknown dtype Q4", "non-negative", "not a JSON object"};
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].first);
    std::string d = fresh_dir("corrupt" + std::to_string(i));
    write_file_atomic(d + "/model.safetensors", cases[i].second, true);
    std::string msg = load_error(d);
    EXPECT_NE(msg.find(expect[i]), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;  // names the file
  }
  // Index naming a shard that lacks the tensor, and a missing shard file.
  std::string d = fresh_dir("badindex");
  write_safetensors(d + "/a.safetensors", golden_tensors());
  json::Value idx = json::Object{};
  idx["weight_map"]["esm.encoder.layer.0.LayerNorm.bias"] = "b.safetensors";
  write_file_atomic(d + "/model.safetensors.index.json", idx.dump(), true);
  EXPECT_NE(load_error(d).find("b.safetensors"), std::string::npos);
  idx["weight_map"]["esm.encoder.layer.0.LayerNorm.bias"] = "../a.safetensors";
  write_file_atomic(d + "/model.safetensors.index.json", idx.dump(), true);
  EXPECT_NE(load_error(d).find("not a file name"), std::string::npos);
}

TEST(ModelCard, ConfigsDescribeTheSixSizes) {
  const std::vector<std::tuple<std::string, int, int, int>> sizes = {
      {"esm2_t6_8M", 6, 320, 20},      {"esm2_t12_35M", 12, 480, 20}, {"esm2_t30_150M", 30, 640, 20},
      {"esm2_t33_650M", 33, 1280, 20}, {"esm2_t36_3B", 36, 2560, 40}, {"esm2_t48_15B", 48, 5120, 40}};
  for (const auto& [name, L, D, H] : sizes) {
    ModelCard card = read_model_card(source_dir() + "/configs/models/" + name + ".json");
    EXPECT_EQ(card.config.num_layers, L);
    EXPECT_EQ(card.config.hidden, D);
    EXPECT_EQ(card.config.heads, H);
    EXPECT_EQ(card.config.ffn, 4 * D);
    EXPECT_EQ(card.hub_name, "facebook/" + name + "_UR50D");
  }
  EXPECT_EQ(read_model_card(source_dir() + "/configs/models/esm2_t6_8M.json").safetensors_bytes, 31375984u);
}

}  // namespace
}  // namespace esm::embed::test
