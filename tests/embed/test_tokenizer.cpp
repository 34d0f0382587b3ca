// The 33-token alphabet and sequence tokenization (cls + ids + eos, truncation, bad letters).
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "encoder/tokenizer.hpp"
#include "test_util.hpp"

namespace esm::embed::test {
namespace {

TEST(Tokenizer, AlphabetIsTheGoldenVocab) {
  std::ifstream in(golden_dir() + "/vocab.txt");
  std::string line;
  size_t i = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(i, alphabet().size());
    EXPECT_EQ(alphabet()[i], line) << i;
    ++i;
  }
  EXPECT_EQ(i, size_t(kVocab));
  EXPECT_EQ(alphabet()[size_t(kMask)], "<mask>");
}

TEST(Tokenizer, ResiduesMapToTheirIds) {
  const std::string letters = "LAGVSERTIDPKQNFYMHWCXBUZO";
  for (size_t i = 0; i < letters.size(); ++i) {
    EXPECT_EQ(residue_token(letters[i]), int32_t(4 + i));
    EXPECT_EQ(residue_token(char(letters[i] - 'A' + 'a')), int32_t(4 + i));  // case folded
  }
  for (char c : std::string("J*.-0 <\n")) EXPECT_EQ(residue_token(c), -1) << c;
  EXPECT_EQ(residue_token(char(0xc3)), -1);
}

TEST(Tokenizer, ClsIdsEosAndTruncation) {
  bool cut = true;
  EXPECT_EQ(tokenize("MKV", 1022, &cut), (std::vector<int32_t>{0, 20, 15, 7, 2}));
  EXPECT_FALSE(cut);
  EXPECT_EQ(tokenize("", 1022, &cut), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(tokenize("MKVL", 2, &cut), (std::vector<int32_t>{0, 20, 15, 2}));
  EXPECT_TRUE(cut);
  EXPECT_EQ(tokenize("MKVL", 4, &cut).size(), 6u);
  EXPECT_FALSE(cut);
  EXPECT_EQ(tokenize(std::string(5000, 'A'), 0, &cut).size(), 5002u);  // 0: no limit
  EXPECT_FALSE(cut);
  EXPECT_EQ(tokenize(std::string(1100, 'A'), kDefaultMaxResidues, nullptr).size(), 1024u);
}

TEST(Tokenizer, GoldenTokensFromTheFasta) {
  std::ifstream in(golden_dir() + "/sequences.fasta");
  std::string line, id, seq;
  std::vector<std::pair<std::string, std::string>> recs;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '>') {
      recs.push_back({line.substr(10, 6), ""});
    } else {
      recs.back().second += line;
    }
  }
  ASSERT_EQ(recs.size(), 9u);
  for (const auto& [name, residues] : recs)
    EXPECT_EQ(tokenize(residues, 0, nullptr), read_npy(golden_dir() + "/" + name + ".tokens.npy").tokens()) << name;
}

TEST(Tokenizer, BadCharactersAreNamed) {
  auto msg = [](const std::string& s) {
    try {
      tokenize(s, 2, nullptr);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(msg("MKJ").find("residue 3: 'J'"), std::string::npos) << msg("MKJ");
  EXPECT_NE(msg("MK*").find("residue 3: '*'"), std::string::npos);
  EXPECT_NE(msg("MKVVV1").find("residue 6"), std::string::npos);  // checked past the truncation point too
  EXPECT_NE(msg(std::string("M\x01")).find("byte 0x1"), std::string::npos);
}

}  // namespace
}  // namespace esm::embed::test
