// Known alignments, MMseqs2's rules and statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "align/aligner.hpp"
#include "align/diagonal_score.hpp"
#include "real_proteins.hpp"

using namespace esm::align;

namespace {
Scoring plain() {
  Scoring s = blosum62();
  s.composition_bias = false;
  return s;
}
Alignment align(const std::string& q, const std::string& t, const Scoring& s, bool cigar = true) {
  const QueryProfile qp = QueryProfile::build(q, s);
  const auto tc = encode(t);
  return sw_align_reference(qp, tc.data(), int(tc.size()), s, cigar);
}
}  // namespace

TEST(Scoring, Blosum62Entries) {
  const auto& m = blosum62().matrix;
  EXPECT_EQ(m[encode_letter('W')][encode_letter('W')], 11);
  EXPECT_EQ(m[encode_letter('A')][encode_letter('A')], 4);
  EXPECT_EQ(m[encode_letter('C')][encode_letter('C')], 9);
  EXPECT_EQ(m[encode_letter('I')][encode_letter('V')], 3);
  EXPECT_EQ(m[encode_letter('D')][encode_letter('L')], -4);
  EXPECT_EQ(m[encode_letter('X')][encode_letter('A')], -1);
  for (int a = 0; a < kAlphabet; ++a)
    for (int b = 0; b < kAlphabet; ++b) EXPECT_EQ(m[a][b], m[b][a]);
  EXPECT_EQ(encode_letter('b'), kX);
  EXPECT_EQ(encode_letter('v'), encode_letter('V'));
}

TEST(Aligner, IdenticalSequence) {
  const std::string q = "MKTAYIAKQRQISFVKSHFSRQ";
  const Alignment a = align(q, q, plain());
  int expect = 0;
  for (char c : q) expect += plain().matrix[encode_letter(c)][encode_letter(c)];
  EXPECT_EQ(a.score, expect);
  EXPECT_EQ(a.qbegin, 0);
  EXPECT_EQ(a.qend, int(q.size()) - 1);
  EXPECT_EQ(a.nident, int(q.size()));
  EXPECT_EQ(a.alnlen, int(q.size()));
  EXPECT_EQ(a.cigar, std::to_string(q.size()) + "M");
}

TEST(Aligner, GapConventionOpenIncludesFirstExtension) {
  // 10 W against 5 W + G + 5 W: 10 matches (110) minus one gap of length 1 (11).
  Alignment a = align("WWWWWWWWWW", "WWWWWGWWWWW", plain());
  EXPECT_EQ(a.score, 110 - 11);
  EXPECT_EQ(a.alnlen, 11);
  EXPECT_EQ(a.nident, 10);
  EXPECT_EQ(a.gap_opens, 1);
  EXPECT_EQ(a.cigar, "5M1D5M");
  // A gap of length 3 costs 11 + 2.
  a = align("WWWWWWWWWW", "WWWWWGGGWWWWW", plain());
  EXPECT_EQ(a.score, 110 - 13);
  EXPECT_EQ(a.cigar, "5M3D5M");
  // The same gap in the other sequence.
  a = align("WWWWWGGGWWWWW", "WWWWWWWWWW", plain());
  EXPECT_EQ(a.score, 110 - 13);
  EXPECT_EQ(a.cigar, "5M3I5M");
}

TEST(Aligner, LocalTrimsFlanks) {
  const Alignment a = align("DDDDDWWWWWDDDDD", "KKKWWWWWKKK", plain());
  EXPECT_EQ(a.score, 55);
  EXPECT_EQ(a.qbegin, 5);
  EXPECT_EQ(a.qend, 9);
  EXPECT_EQ(a.tbegin, 3);
  EXPECT_EQ(a.tend, 7);
}

TEST(Aligner, NoPositiveScore) {
  const Alignment a = align("DDDD", "WWWW", plain());
  EXPECT_EQ(a.score, 0);
  EXPECT_EQ(a.alnlen, 0);
}

TEST(Aligner, CompositionBiasLowersRepeatScores) {
  // A low-complexity query gets a negative local correction (MMseqs2 --comp-bias-corr 1).
  const auto bias = composition_bias_reference(encode(std::string(60, 'W')), blosum62());
  for (float b : bias) EXPECT_LT(b, -5.0f);
  const Alignment with = align(std::string(60, 'W'), std::string(60, 'W'), blosum62());
  const Alignment without = align(std::string(60, 'W'), std::string(60, 'W'), plain());
  EXPECT_LT(with.score, without.score);
}

TEST(Statistics, MatchesMmseqs2) {
  // (raw score, qlen, target residues) -> E-value and bits as `mmseqs easy-search` (14-7e284)
  // printed them for real UniProt pairs (target set of 298,212 residues).
  const Statistics st;
  struct Case { int raw, qlen; double evalue; int bits; };
  for (const Case c : {Case{121, 113, 2.193e-10, 52}, Case{63, 227, 0.0637, 29},
                       Case{100, 342, 3.534e-06, 44}, Case{155, 728, 2.547e-12, 66}}) {
    EXPECT_NEAR(std::log10(st.evalue(c.raw, c.qlen, 298212)), std::log10(c.evalue), 0.002);
    EXPECT_EQ(int(st.bit_score(c.raw) + 0.5), c.bits);
  }
  const int m = st.min_score(1e-3, 300, 298212);
  EXPECT_LE(st.evalue(m, 300, 298212), 1e-3);
  EXPECT_GT(st.evalue(m - 1, 300, 298212), 1e-3);
}

TEST(Rules, CoverageModes) {
  SearchParams p;
  p.coverage = 0.8;
  p.cov_mode = 0;
  EXPECT_TRUE(can_be_covered(p, 100, 125));
  EXPECT_FALSE(can_be_covered(p, 100, 126));
  EXPECT_TRUE(has_coverage(p, 100, 100, 80, 80));
  EXPECT_FALSE(has_coverage(p, 100, 100, 80, 79));
  p.cov_mode = 1;  // target only
  EXPECT_TRUE(has_coverage(p, 1000, 100, 80, 80));
  EXPECT_FALSE(can_be_covered(p, 70, 100));
  p.cov_mode = 2;  // query only
  EXPECT_TRUE(has_coverage(p, 100, 1000, 80, 80));
  EXPECT_FALSE(has_coverage(p, 100, 1000, 79, 80));
  p.cov_mode = 3;  // target length >= c * query length (and not longer)
  EXPECT_TRUE(can_be_covered(p, 100, 80));
  EXPECT_FALSE(can_be_covered(p, 100, 79));
  EXPECT_FALSE(can_be_covered(p, 100, 101));
  p.cov_mode = 4;
  EXPECT_TRUE(can_be_covered(p, 80, 100));
  EXPECT_FALSE(can_be_covered(p, 101, 100));
  p.cov_mode = 5;
  EXPECT_TRUE(can_be_covered(p, 80, 100));
  EXPECT_TRUE(can_be_covered(p, 100, 80));
  EXPECT_FALSE(can_be_covered(p, 100, 79));
}

TEST(Rules, IdentityModes) {
  EXPECT_FLOAT_EQ(sequence_identity(0, 50, 100, 120, 200), 0.5f);
  EXPECT_FLOAT_EQ(sequence_identity(1, 60, 100, 120, 200), 0.5f);
  EXPECT_FLOAT_EQ(sequence_identity(2, 100, 100, 120, 200), 0.5f);
}

TEST(Rules, ValidateNamesTheOption) {
  SearchParams p;
  p.cov_mode = 6;
  try {
    validate(p);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--cov-mode"), std::string::npos);
  }
}

TEST(Aligner, EvaluateAppliesAllRules) {
  const std::string q = "MSTNPKPQRKTKRNTNRRPQDVKFPGGGQIVGGVYLLPRRGPRLGVRATRKTSERSQPRGRRQPIPKARRPEGRTWAQPGYPWPLYGNEGCGWAGWLLSPRGSRPSWGPTDPRRRSRNLGKVIDTLTCGFADLMGYIPLVGAPLGGAARALAHGVRVLEDGVNYATGNLPGCSFSIFLLALLSCLTVPASA";
  std::string t = q;
  for (size_t i = 0; i < t.size(); i += 3) t[i] = t[i] == 'A' ? 'W' : 'A';  // ~66% identity
  SearchParams p;
  Aligner al(p, 100000);
  al.set_query(q);
  const auto tc = encode(t);
  Hit h;
  EXPECT_TRUE(al.evaluate(tc.data(), int(tc.size()), h));
  EXPECT_GT(h.fident, 0.6);
  EXPECT_LT(h.fident, 0.7);
  EXPECT_LE(h.evalue, 1e-3);
  Hit h2;
  EXPECT_TRUE(al.evaluate(tc.data(), int(tc.size()), h2, /*use_fast=*/false));
  EXPECT_EQ(h.raw_score, h2.raw_score);
  // Too short a target for cov-mode 0 at 0.8.
  const auto shortt = encode(t.substr(0, q.size() * 3 / 4));
  EXPECT_FALSE(al.evaluate(shortt.data(), int(shortt.size()), h));
  // Identity threshold above what the pair has.
  p.min_seq_id = 0.9;
  Aligner strict(p, 100000);
  strict.set_query(q);
  EXPECT_FALSE(strict.evaluate(tc.data(), int(tc.size()), h));
}

// SharedDiagonals against a plain reference: every diagonal's shared 3-mers counted directly,
// the top 3 by (count desc, diag asc), their best ungapped segments with BLOSUM62 summed.
namespace {
int shared_diagonals_reference(const std::vector<uint8_t>& q, const std::vector<uint8_t>& t) {
  const int ql = int(q.size()), tl = int(t.size());
  std::vector<std::pair<int, int>> counts;  // (-count, diag)
  for (int d = -(tl - 1); d <= ql - 1; ++d) {
    int c = 0;
    for (int i = std::max(0, d); i + 3 <= ql && i - d + 3 <= tl; ++i) {
      const int j = i - d;
      bool same = true;
      for (int k = 0; k < 3; ++k) same = same && q[i + k] < 20 && q[i + k] == t[j + k];
      c += same;
    }
    if (c) counts.push_back({-c, d});
  }
  std::sort(counts.begin(), counts.end());
  int sum = 0;
  for (size_t k = 0; k < counts.size() && k < 3; ++k) {
    const int d = counts[k].second;
    int best = 0, run = 0;
    for (int i = std::max(0, d); i < ql && i - d < tl; ++i) {
      run = std::max(0, run + esm::align::blosum62().matrix[q[i]][t[i - d]]);
      best = std::max(best, run);
    }
    sum += best;
  }
  return sum;
}
}  // namespace

TEST(SharedDiagonals, EqualsPlainReference) {
  auto real = read_real_proteins(60);
  ASSERT_GE(real.size(), 60u);
  std::mt19937 rng(7);
  esm::align::SharedDiagonals sd;
  int nonzero = 0;
  for (size_t a = 0; a + 1 < real.size(); a += 2) {
    auto q = esm::align::encode(real[a]);
    sd.set_query(q.data(), int(q.size()));
    // An unrelated protein, a mutated copy with an insertion, and a short piece of the query.
    std::vector<std::vector<uint8_t>> targets{esm::align::encode(real[a + 1])};
    auto mutated = q;
    for (auto& c : mutated)
      if (rng() % 4 == 0) c = uint8_t(rng() % 21);
    mutated.insert(mutated.begin() + long(mutated.size() / 2), 7, uint8_t(5));
    targets.push_back(mutated);
    targets.emplace_back(q.begin() + long(q.size() / 3), q.begin() + long(q.size() / 3 + std::min<size_t>(q.size() / 3, 40)));
    for (const auto& t : targets) {
      const int got = sd.top_diagonals_score(t.data(), int(t.size()));
      EXPECT_EQ(got, shared_diagonals_reference(q, t)) << "query " << a << " target length " << t.size();
      nonzero += got > 0;
    }
  }
  EXPECT_GT(nonzero, 40);
}
