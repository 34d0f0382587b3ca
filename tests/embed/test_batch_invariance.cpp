// Batch invariance (bitwise) of the fast CPU backend, and fast vs reference on a random-weight
// model wide enough to use several GEMM row tiles and column chunks, with masked tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <unistd.h>

#include "encoder/backend.hpp"
#include "encoder/random_model.hpp"
#include "encoder/tokenizer.hpp"
#include "test_util.hpp"

namespace esm::embed::test {
namespace {

// 3 layers, D 160, 8 heads of 20, FFN 640 (> one 512-column chunk); weights written as F16.
std::shared_ptr<const Model> random_model() {
  // One directory per process (ctest runs test cases in parallel processes), removed at exit.
  static struct Dir {
    std::string path = (std::filesystem::path(::testing::TempDir()) / str("esm_encoder_random_d160_", getpid())).string();
    ~Dir() { std::filesystem::remove_all(path); }
  } tmp;
  static std::shared_ptr<const Model> m = [] {
    const std::string& dir = tmp.path;
    ModelConfig c;
    c.name = "random-d160";
    c.num_layers = 3;
    c.hidden = 160;
    c.heads = 8;
    c.ffn = 640;
    write_random_model(dir, c, 42, "F16");
    return Model::load(dir);
  }();
  return m;
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int n, double mask_rate) {
  std::vector<int32_t> t{kCls};
  std::uniform_int_distribution<int> res(4, 28);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) t.push_back(u(rng) < mask_rate ? kMask : res(rng));
  t.push_back(kEos);
  return t;
}

bool bitwise_equal(const SequenceOutput& a, const SequenceOutput& b) {
  auto same = [](const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
  };
  if (a.n != b.n || a.layers.size() != b.layers.size() || !same(a.logits, b.logits) || !same(a.contacts, b.contacts))
    return false;
  for (size_t i = 0; i < a.layers.size(); ++i)
    if (!same(a.layers[i], b.layers[i]) || !same(a.means[i], b.means[i])) return false;
  return true;
}

TEST(BatchInvariance, SameBitsWhateverTheBatch) {
  auto model = random_model();
  std::mt19937 rng(7);
  // Lengths around the 128-row tile edges, one long sequence, some masks.
  std::vector<std::vector<int32_t>> seqs;
  for (int n : {1, 5, 126, 127, 128, 129, 200, 300, 420}) seqs.push_back(random_tokens(rng, n, 0.05));
  OutputRequest req{{0, 1, -1}, true, true};
  auto one = make_backend("cpu", model, 1);
  auto two = make_backend("cpu", model, 2);
  std::vector<SequenceOutput> alone;
  for (const auto& s : seqs) alone.push_back(one->forward({s}, req)[0]);

  // All in one batch, reversed, and three mixed batches, with 1 and 2 threads.
  std::vector<std::vector<size_t>> batches = {{0, 1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6, 5, 4, 3, 2, 1, 0},
                                              {3, 8, 0}, {2, 2, 5, 1}, {6, 4, 7}};
  for (auto* backend : {one.get(), two.get()})
    for (const auto& b : batches) {
      std::vector<std::vector<int32_t>> batch;
      for (size_t i : b) batch.push_back(seqs[i]);
      auto out = backend->forward(batch, req);
      ASSERT_EQ(out.size(), b.size());
      for (size_t k = 0; k < b.size(); ++k) EXPECT_TRUE(bitwise_equal(out[k], alone[b[k]])) << "sequence " << b[k];
    }
  // Only the last layer asked for: the same bits for that layer.
  auto last = two->forward({seqs[7], seqs[3]}, OutputRequest{{-1}, false, false});
  EXPECT_EQ(std::memcmp(last[0].layers[0].data(), alone[7].layers[2].data(), last[0].layers[0].size() * 4), 0);
}

TEST(FastVsReference, RandomModelWithMasks) {
  auto model = random_model();
  std::mt19937 rng(11);
  std::vector<std::vector<int32_t>> seqs;
  for (int n : {3, 140, 290}) seqs.push_back(random_tokens(rng, n, 0.15));
  OutputRequest req{{0, 1, 2, 3}, true, true};
  auto ref = make_backend("reference", model, 1)->forward(seqs, req);
  auto fast = make_backend("cpu", model, 2)->forward(seqs, req);
  for (size_t s = 0; s < seqs.size(); ++s) {
    SCOPED_TRACE(s);
    for (size_t l = 0; l < req.layers.size(); ++l) {
      EXPECT_TRUE(all_close(fast[s].layers[l], ref[s].layers[l])) << "layer " << l;
      EXPECT_TRUE(all_close(fast[s].means[l], ref[s].means[l])) << "mean " << l;
    }
    EXPECT_TRUE(all_close(fast[s].logits, ref[s].logits)) << "logits";
    EXPECT_TRUE(all_close(fast[s].contacts, ref[s].contacts)) << "contacts";
  }
}

TEST(Backend, RejectsMalformedInput) {
  auto backend = make_backend("cpu", random_model(), 1);
  EXPECT_THROW(backend->forward({{5, 6, 2}}, {}), Error);        // no cls
  EXPECT_THROW(backend->forward({{0, 5, 6}}, {}), Error);        // no eos
  EXPECT_THROW(backend->forward({{0, 5, 1, 6, 2}}, {}), Error);  // pad inside
  EXPECT_THROW(backend->forward({{0, 5, 40, 2}}, {}), Error);    // out of vocabulary
  EXPECT_THROW(backend->forward({{0, 5, 2}}, OutputRequest{{4}, false, false}), Error);  // L = 3
  EXPECT_EQ(backend->forward({{0, 5, 2}}, OutputRequest{{-4}, false, false})[0].layers.size(), 1u);
  EXPECT_THROW(make_backend("tpu", random_model(), 1), Error);
  EXPECT_TRUE(backend->forward({}, {}).empty());
  // No residues at all: empty outputs, zero means, in both backends.
  for (const char* device : {"cpu", "reference"}) {
    auto empty = make_backend(device, random_model(), 2)->forward({{0, 2}, {0, 5, 2}}, OutputRequest{{-1}, true, true});
    EXPECT_EQ(empty[0].n, 0);
    EXPECT_TRUE(empty[0].layers[0].empty() && empty[0].logits.empty() && empty[0].contacts.empty());
    EXPECT_EQ(empty[0].means[0], std::vector<float>(160, 0.f));
    EXPECT_EQ(empty[1].contacts.size(), 1u);
  }
}

TEST(PlanBatches, SortedByLengthWithinBudget) {
  auto b = plan_batches({10, 50, 30, 50, 5}, 60);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0], (std::vector<size_t>{1}));
  EXPECT_EQ(b[1], (std::vector<size_t>{3}));
  EXPECT_EQ(b[2], (std::vector<size_t>{2, 0, 4}));
  EXPECT_EQ(plan_batches({100}, 10).size(), 1u);  // a long sequence gets its own batch
}

}  // namespace
}  // namespace esm::embed::test
