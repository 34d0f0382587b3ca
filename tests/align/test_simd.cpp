// The SIMD score kernels (16-bit, and 32-bit on every pair too) must return exactly the reference
// score, on every level the CPU has.
#include <gtest/gtest.h>

#include <random>

#include "align/sw_reference.hpp"
#include "align/sw_simd.hpp"
#include "real_proteins.hpp"

using namespace esm::align;

namespace {

std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::Sse41, SimdLevel::Avx2})
    if (l <= best_simd_level()) out.push_back(l);
  return out;
}

std::string random_protein(std::mt19937& rng, int len) {
  std::uniform_int_distribution<int> letter(0, 19);
  std::string s(len, 'A');
  for (auto& c : s) c = kLetters[letter(rng)];
  return s;
}

// A homolog: substitutions, insertions and deletions at the given rate.
std::string mutate(std::mt19937& rng, const std::string& s, double rate) {
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> letter(0, 19);
  std::string out;
  for (char c : s) {
    const double r = u(rng);
    if (r < rate * 0.8) out += kLetters[letter(rng)];
    else if (r < rate * 0.9) continue;
    else if (r < rate) out += c, out += kLetters[letter(rng)];
    else out += c;
  }
  return out;
}

void expect_same_scores(const std::string& q, const std::string& t, const Scoring& sc) {
  const QueryProfile qp = QueryProfile::build(q, sc);
  const auto tc = encode(t);
  const int ref = sw_score_reference(qp, tc.data(), int(tc.size()), sc);
  EXPECT_EQ(sw_align_reference(qp, tc.data(), int(tc.size()), sc).score, ref);
  for (SimdLevel l : levels()) {
    StripedProfile sp(qp, sc, l);
    ASSERT_EQ(sp.level(), l);
    EXPECT_EQ(sp.score(tc.data(), int(tc.size())), ref)
        << simd_level_name(l) << " qlen " << q.size() << " tlen " << t.size();
    EXPECT_EQ(sp.score_wide(tc.data(), int(tc.size())), ref)
        << "32-bit lanes, " << simd_level_name(l) << " qlen " << q.size() << " tlen " << t.size();
  }
}

}  // namespace

TEST(Simd, HasAKernel) {
  if (levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  SUCCEED() << simd_level_name(best_simd_level());
}

TEST(Simd, RandomPairsMatchReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> len(1, 400);
  std::uniform_real_distribution<double> rate(0.0, 0.9);
  for (int k = 0; k < 300; ++k) {
    const std::string q = random_protein(rng, len(rng));
    const std::string t = k % 2 ? random_protein(rng, len(rng)) : mutate(rng, q, rate(rng));
    Scoring sc = blosum62();
    sc.composition_bias = k % 3 != 0;
    sc.gap_open = k % 5 == 0 ? 5 : 11;  // cheap gaps exercise the lazy-F loop harder
    expect_same_scores(q, t, sc);
  }
}

TEST(Simd, EdgeLengths) {
  std::mt19937 rng(11);
  for (int ql : {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65})
    for (int tl : {1, 2, 16, 33}) expect_same_scores(random_protein(rng, ql), random_protein(rng, tl), blosum62());
}

TEST(Simd, LowComplexityAndRepeats) {
  Scoring sc = blosum62();
  expect_same_scores(std::string(300, 'W'), std::string(280, 'W'), sc);
  expect_same_scores(std::string(200, 'A') + "KKKK" + std::string(50, 'A'), std::string(240, 'A'), sc);
  std::string rep;
  for (int i = 0; i < 40; ++i) rep += "GPPGAPG";
  expect_same_scores(rep, rep.substr(3) + "QQQ" + rep.substr(0, 100), sc);
}

TEST(Simd, LongIdenticalPairFallsBackWithoutOverflow) {
  // 11 * 7000 > 65535: the 16-bit lanes would saturate; the 32-bit lanes take over.
  const std::string w(7000, 'W');
  expect_same_scores(w, w, blosum62());
}

TEST(Simd, RealPairsMatchReference) {
  const auto seqs = read_real_proteins(160);
  ASSERT_EQ(seqs.size(), 160u) << "data/mini-uniref/uniref90.fasta.gz not found (ESMPIPE_SOURCE_DIR)";
  // Neighbouring records are often in the same UniRef50 cluster: real homologs.
  for (size_t i = 0; i + 1 < seqs.size(); ++i) expect_same_scores(seqs[i], seqs[i + 1], blosum62());
  for (size_t i = 0; i + 40 < seqs.size(); i += 3) expect_same_scores(seqs[i], seqs[i + 40], blosum62());
}
