// The fast traceback (sw_align_scored: fill stopped at the end cell, reused buffer) against the
// full reference traceback, and evaluate()'s fast path against its reference path: every field
// must be equal, ties included (low-complexity and repeat pairs force many equal-score choices).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "align/aligner.hpp"
#include "core/error.hpp"
#include "real_proteins.hpp"

using namespace esm::align;

namespace {

std::string random_protein(std::mt19937& rng, int len, const std::string& letters) {
  std::string s(len, 'A');
  for (char& c : s) c = letters[rng() % letters.size()];
  return s;
}

// Substitutions at rate `sub`, plus a few short insertions and deletions: a homolog.
std::string mutate(std::mt19937& rng, const std::string& s, double sub, const std::string& letters) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const double r = u(rng);
    if (r < 0.01) continue;                                           // deletion
    if (r < 0.02) out += random_protein(rng, 1 + rng() % 4, letters);  // insertion
    out += u(rng) < sub ? letters[rng() % letters.size()] : s[i];
  }
  return out.empty() ? s : out;
}

void expect_same_alignment(const Alignment& fast, const Alignment& ref) {
  EXPECT_EQ(fast.score, ref.score);
  EXPECT_EQ(fast.qbegin, ref.qbegin);
  EXPECT_EQ(fast.qend, ref.qend);
  EXPECT_EQ(fast.tbegin, ref.tbegin);
  EXPECT_EQ(fast.tend, ref.tend);
  EXPECT_EQ(fast.alnlen, ref.alnlen);
  EXPECT_EQ(fast.nident, ref.nident);
  EXPECT_EQ(fast.gap_opens, ref.gap_opens);
}

// Both aligners on one pair; returns the number of alignments compared (0 or 1).
int compare_pair(Aligner& al, const std::string& q, const std::string& t) {
  al.set_query(q);
  const auto tc = encode(t);
  const int tlen = int(tc.size());
  const int score = al.score(tc.data(), tlen);
  const Alignment ref = al.align(tc.data(), tlen);
  EXPECT_EQ(score, ref.score);
  if (score > 0) {
    SCOPED_TRACE("q=" + q + " t=" + t);
    expect_same_alignment(al.align_scored(tc.data(), tlen, score), ref);
  }
  Hit fast, slow;
  const bool fast_ok = al.evaluate(tc.data(), tlen, fast, true);
  const bool slow_ok = al.evaluate(tc.data(), tlen, slow, false);
  EXPECT_EQ(fast_ok, slow_ok);
  EXPECT_EQ(fast.raw_score, slow.raw_score);
  EXPECT_EQ(fast.qstart, slow.qstart);
  EXPECT_EQ(fast.qend, slow.qend);
  EXPECT_EQ(fast.tstart, slow.tstart);
  EXPECT_EQ(fast.tend, slow.tend);
  EXPECT_EQ(fast.qlen, slow.qlen);
  EXPECT_EQ(fast.tlen, slow.tlen);
  EXPECT_EQ(fast.alnlen, slow.alnlen);
  EXPECT_EQ(fast.nident, slow.nident);
  EXPECT_EQ(fast.fident, slow.fident);  // bitwise: same integers in, same formula
  EXPECT_EQ(fast.evalue, slow.evalue);
  EXPECT_EQ(fast.bits, slow.bits);
  return score > 0;
}

}  // namespace

TEST(Traceback, RandomAndTiedPairsMatchFullTraceback) {
  std::mt19937 rng(20261124);
  const std::string all = "ACDEFGHIKLMNPQRSTVWYXBZUO";
  // Tiny alphabets and repeats make many cells tie for the maximum and for each traceback step.
  const std::vector<std::string> alphabets = {all, "ACDEFGHIKLMNPQRSTVWY", "AG", "W", "KE", "LVI"};
  SearchParams p;
  p.evalue = 1e6;  // let most pairs reach the traceback
  p.coverage = 0.0;
  int compared = 0;
  for (const auto& letters : alphabets) {
    for (int k = 0; k < 60; ++k) {
      Aligner al(p, 1000000);  // one per pair set: the buffer is reused across sizes below
      const std::string q = random_protein(rng, 1 + int(rng() % 300), letters);
      compared += compare_pair(al, q, mutate(rng, q, 0.3, letters));
      compared += compare_pair(al, q, random_protein(rng, 1 + int(rng() % 300), letters));
      compared += compare_pair(al, q + q.substr(0, q.size() / 2), q);  // internal repeat
    }
  }
  EXPECT_GT(compared, 800);  // 900 of 1080 with this seed: the rest score 0
}

TEST(Traceback, RealPairsMatchFullTraceback) {
  const auto seqs = read_real_proteins(120);
  ASSERT_EQ(seqs.size(), 120u) << "data/mini-uniref/uniref90.fasta.gz not found (ESMPIPE_SOURCE_DIR)";
  std::mt19937 rng(7);
  const std::string letters = "ACDEFGHIKLMNPQRSTVWY";
  Aligner al(SearchParams{}, 30000000);  // the defaults evaluate() runs with in filter/cluster
  int accepted_pairs = 0;
  for (size_t i = 0; i + 1 < seqs.size(); ++i) {
    compare_pair(al, seqs[i], seqs[i + 1]);  // neighbours: often real homologs
    compare_pair(al, seqs[i], mutate(rng, seqs[i], 0.35, letters));
    Hit h;
    al.set_query(seqs[i]);
    const auto tc = encode(mutate(rng, seqs[i], 0.35, letters));
    accepted_pairs += al.evaluate(tc.data(), int(tc.size()), h);
  }
  EXPECT_GT(accepted_pairs, 60);  // the accepted path itself is exercised
}

TEST(Traceback, WrongScoreIsAnError) {
  const Scoring& s = blosum62();
  const QueryProfile q = QueryProfile::build("MKTAYIAKQRQISFVKSHFSRQ", s);
  const auto t = encode("MKTAYIAKQRQISFVKSHFSRQ");
  const int score = sw_score_reference(q, t.data(), int(t.size()), s);
  std::vector<uint8_t> dir;
  EXPECT_THROW(sw_align_scored(q, t.data(), int(t.size()), s, score + 1, dir), esm::Error);
  EXPECT_EQ(sw_align_scored(q, t.data(), int(t.size()), s, score, dir).alnlen, int(t.size()));
}
