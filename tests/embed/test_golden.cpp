// Both backends against the public ESM-2 golden vectors (reference implementation outputs,
// random-weight 2-layer model): every layer, logits, contacts, means, the 1100-residue sequence
// and its 1022-residue truncation; one sequence per batch and all sequences in one batch.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "encoder/backend.hpp"
#include "encoder/tokenizer.hpp"
#include "test_util.hpp"

namespace esm::embed::test {
namespace {

struct Case {
  std::string id;
  std::vector<int32_t> tokens;
  int n = 0;
  bool long_seq = false;  // golden has last/contacts_block instead of repr/contacts
  Npy repr, last, logits, contacts, mean;
};

std::shared_ptr<const Model> golden_model() {
  static std::shared_ptr<const Model> m = Model::load(golden_dir());
  return m;
}

const std::vector<Case>& cases() {
  static std::vector<Case> all = [] {
    std::vector<Case> v;
    for (int i = 1; i <= 9; ++i) {
      Case c;
      c.id = str("TEST0", i);
      std::string p = golden_dir() + "/" + c.id;
      c.tokens = read_npy(p + ".tokens.npy").tokens();
      c.n = int(c.tokens.size()) - 2;
      c.long_seq = i == 9;
      if (c.long_seq) {
        c.last = read_npy(p + ".last.npy");
        c.contacts = read_npy(p + ".contacts_block.npy");
      } else {
        c.repr = read_npy(p + ".repr.npy");
        c.contacts = read_npy(p + ".contacts.npy");
      }
      c.logits = read_npy(p + ".logits.npy");
      c.mean = read_npy(p + ".mean.npy");
      v.push_back(std::move(c));
    }
    return v;
  }();
  return all;
}

// Rows 1..n (residues) of a [tokens, width] golden array.
std::vector<float> residue_rows(const std::vector<float>& a, int n, int width, size_t offset = 0) {
  return std::vector<float>(a.begin() + long(offset + size_t(width)), a.begin() + long(offset + size_t(n + 1) * width));
}

void check_case(const Case& c, const SequenceOutput& o, int L, int D) {
  SCOPED_TRACE(c.id);
  ASSERT_EQ(o.n, c.n);
  if (!c.long_seq) {
    std::vector<float> repr = c.repr.f32();
    size_t T = c.tokens.size();
    ASSERT_EQ(o.layers.size(), size_t(L + 1));
    for (int k = 0; k <= L; ++k) {
      SCOPED_TRACE(str("layer ", k));
      EXPECT_TRUE(all_close(o.layers[size_t(k)], residue_rows(repr, c.n, D, size_t(k) * T * D)));
    }
    EXPECT_TRUE(all_close(o.contacts, c.contacts.f32())) << "contacts";
  } else {
    EXPECT_TRUE(all_close(o.layers.back(), residue_rows(c.last.f32(), c.n, D))) << "last";
    std::vector<float> block;
    for (int i = 0; i < 128; ++i)
      block.insert(block.end(), o.contacts.begin() + long(i) * c.n, o.contacts.begin() + long(i) * c.n + 128);
    EXPECT_TRUE(all_close(block, c.contacts.f32())) << "contacts_block";
  }
  EXPECT_TRUE(all_close(o.logits, residue_rows(c.logits.f32(), c.n, kVocab))) << "logits";
  EXPECT_TRUE(all_close(o.means.back(), c.mean.f32())) << "mean";
}

class Golden : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(Golden, MatchesEveryFile) {
  auto [device, one_batch] = GetParam();
  auto model = golden_model();
  const int L = model->config().num_layers, D = model->config().hidden;
  auto backend = make_backend(device, model, 2);
  OutputRequest req;
  for (int k = 0; k <= L; ++k) req.layers.push_back(k);
  req.logits = req.contacts = true;
  if (one_batch) {
    std::vector<std::vector<int32_t>> batch;
    for (const auto& c : cases()) batch.push_back(c.tokens);
    auto out = backend->forward(batch, req);
    ASSERT_EQ(out.size(), cases().size());
    for (size_t i = 0; i < out.size(); ++i) check_case(cases()[i], out[i], L, D);
  } else {
    for (const auto& c : cases()) {
      auto out = backend->forward({c.tokens}, req);
      ASSERT_EQ(out.size(), 1u);
      check_case(c, out[0], L, D);
    }
  }
}

// scripts/extract.py truncation: our tokenizer at the default 1022 gives the golden tokens, and
// the last layer and mean of that truncated sequence match.
TEST_P(Golden, Truncated1022) {
  auto [device, one_batch] = GetParam();
  auto model = golden_model();
  std::string p = golden_dir() + "/TEST09.trunc1022";
  std::vector<int32_t> want_tokens = read_npy(p + ".tokens.npy").tokens();
  // The FASTA residues of TEST09 (last record of sequences.fasta).
  std::ifstream in(golden_dir() + "/sequences.fasta");
  std::string line, seq;
  while (std::getline(in, line)) {
    if (line.rfind(">UniRef50_TEST09", 0) == 0) seq.clear();
    else if (!line.empty() && line[0] != '>') seq += line;
  }
  bool truncated = false;
  std::vector<int32_t> tokens = tokenize(seq, kDefaultMaxResidues, &truncated);
  EXPECT_TRUE(truncated);
  ASSERT_EQ(tokens, want_tokens);
  EXPECT_EQ(tokenize(seq, 0, nullptr), cases().back().tokens);

  auto backend = make_backend(device, model, 2);
  OutputRequest req;
  req.layers = {-1};
  std::vector<std::vector<int32_t>> batch = {tokens};
  if (one_batch)
    for (const auto& c : cases()) batch.push_back(c.tokens);
  auto out = backend->forward(batch, req);
  int n = int(tokens.size()) - 2;
  EXPECT_TRUE(all_close(out[0].layers[0], residue_rows(read_npy(p + ".last.npy").f32(), n, model->config().hidden)));
  EXPECT_TRUE(all_close(out[0].means[0], read_npy(p + ".mean.npy").f32()));
}

INSTANTIATE_TEST_SUITE_P(Backends, Golden,
                         ::testing::Combine(::testing::Values("reference", "cpu"), ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + (std::get<1>(info.param) ? "_one_batch" : "_batch1");
                         });

}  // namespace
}  // namespace esm::embed::test
