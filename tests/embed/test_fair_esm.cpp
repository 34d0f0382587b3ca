// The fast CPU backend against fair-esm itself (tests/embed/data/fair-esm, made by
// make_reference_cases.py): random-weight checkpoints of the real 8M and 35M shapes, lengths up to
// 2048 tokens, masked tokens. The checkpoints are regenerated here from the same seed and their
// sha256 checked against the one fair-esm was given.
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "core/atomic_file.hpp"
#include "core/json.hpp"
#include "encoder/backend.hpp"
#include "encoder/random_model.hpp"
#include "encoder/tokenizer.hpp"
#include "test_util.hpp"

namespace esm::embed::test {
namespace {

namespace fs = std::filesystem;

std::string cases_dir() { return source_dir() + "/tests/embed/data/fair-esm"; }

class FairEsm : public ::testing::TestWithParam<std::string> {};

TEST_P(FairEsm, CpuBackendMatches) {
  const std::string name = GetParam();
  json::Value manifest = json::parse(read_file(cases_dir() + "/manifest.json"));
  const json::Value& m = manifest.at("models").at(name);
  ModelCard card = read_model_card(source_dir() + "/" + m.at("card").as_string());
  fs::path dir = fs::path(::testing::TempDir()) / str("esm_encoder_fair_", name, "_", getpid());
  write_random_model(dir.string(), card.config, uint64_t(m.at("seed").as_int()), m.at("dtype").as_string());
  auto model = Model::load(dir.string());
  EXPECT_EQ(model->weights_sha256(), m.at("safetensors_sha256").as_string()) << "the random-weight generator changed";

  std::vector<const json::Value*> cases;
  std::vector<std::vector<int32_t>> batch;
  for (const auto& c : manifest.at("cases").as_array())
    if (c.at("model").as_string() == name) {
      cases.push_back(&c);
      batch.push_back(read_npy(cases_dir() + "/" + c.at("files").at("tokens").as_string()).tokens());
    }
  ASSERT_FALSE(cases.empty());
  auto out = make_backend("cpu", model, 2)->forward(batch, OutputRequest{{-1}, true, true});
  fs::remove_all(dir);

  const int D = card.config.hidden;
  const int B = int(manifest.at("block").as_int());
  for (size_t i = 0; i < cases.size(); ++i) {
    const json::Value& c = *cases[i];
    SCOPED_TRACE(c.at("id").as_string());
    auto file = [&](const std::string& k) { return read_npy(cases_dir() + "/" + c.at("files").at(k).as_string()).f32(); };
    const SequenceOutput& o = out[i];
    const int n = o.n, stride = int(c.at("row_stride").as_int());
    std::vector<float> last, logits, first_block, last_block;
    for (int r = 0; r < n; r += stride) {
      last.insert(last.end(), o.layers[0].begin() + long(r) * D, o.layers[0].begin() + long(r + 1) * D);
      logits.insert(logits.end(), o.logits.begin() + long(r) * kVocab, o.logits.begin() + long(r + 1) * kVocab);
    }
    for (int a = 0; a < B; ++a)
      for (int b = 0; b < B; ++b) {
        first_block.push_back(o.contacts[size_t(a) * n + b]);
        last_block.push_back(o.contacts[size_t(n - B + a) * n + (n - B + b)]);
      }
    EXPECT_TRUE(all_close(last, file("last_rows"))) << "last layer";
    EXPECT_TRUE(all_close(logits, file("logits_rows"))) << "logits";
    EXPECT_TRUE(all_close(o.means[0], file("mean"))) << "mean";
    EXPECT_TRUE(all_close(first_block, file("contacts_first"))) << "contacts, first block";
    EXPECT_TRUE(all_close(last_block, file("contacts_last"))) << "contacts, last block";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FairEsm, ::testing::Values("esm2_t6_8M", "esm2_t12_35M"));

}  // namespace
}  // namespace esm::embed::test
