// The fast tracebacks against the full reference traceback (sw_align_reference), and evaluate()'s
// fast path against its reference path: every field must be equal, ties included (low-complexity
// and repeat pairs force many equal-score choices). Fast tracebacks: the scalar sw_align_scored
// (fill stopped at the end cell, reused buffer), the striped SIMD fill of H
// (StripedProfile::align_scored, what Aligner::evaluate runs) and the 32-bit striped fill with
// direction bytes (align_wide, for scores past 16 bits) on every SIMD level the CPU has;
// the one-pass striped fill (StripedProfile::align, no score given: Aligner::evaluate_one_pass,
// what clustering runs) on the same pairs, and evaluate_one_pass against evaluate.
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

void expect_same_hit(bool fast_ok, const Hit& fast, bool slow_ok, const Hit& slow) {
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
    expect_same_alignment(al.align_one_pass(tc.data(), tlen), ref);
    TraceBuffer dir;
    expect_same_alignment(sw_align_scored(al.query(), tc.data(), tlen, blosum62(), score, dir), ref);
  }
  Hit fast, slow, one;
  const bool fast_ok = al.evaluate(tc.data(), tlen, fast, true);
  const bool slow_ok = al.evaluate(tc.data(), tlen, slow, false);
  const bool one_ok = al.evaluate_one_pass(tc.data(), tlen, one);
  expect_same_hit(fast_ok, fast, slow_ok, slow);
  {
    SCOPED_TRACE("evaluate_one_pass");
    expect_same_hit(one_ok, one, fast_ok, fast);
  }
  return score > 0;
}

std::vector<SimdLevel> simd_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::Sse41, SimdLevel::Avx2})
    if (l <= best_simd_level()) out.push_back(l);
  return out;
}

// The striped traceback at each SIMD level (one direction buffer reused across pairs and levels)
// against the reference, under scoring `sc`; returns the number of alignments compared.
int compare_levels(const std::string& q, const std::string& t, const Scoring& sc, TraceBuffer& dir) {
  const QueryProfile qp = QueryProfile::build(q, sc);
  const auto tc = encode(t);
  const int tlen = int(tc.size());
  const Alignment ref = sw_align_reference(qp, tc.data(), tlen, sc);
  int compared = 0;
  for (SimdLevel l : simd_levels()) {
    StripedProfile sp(qp, sc, l);
    EXPECT_EQ(sp.level(), l);
    const int score = sp.score(tc.data(), tlen);
    EXPECT_EQ(score, ref.score);
    SCOPED_TRACE(std::string(simd_level_name(l)) + " qlen " + std::to_string(q.size()) + " tlen " +
                 std::to_string(t.size()) + " q=" + q.substr(0, 60) + " t=" + t.substr(0, 60));
    expect_same_alignment(sp.align_scored(tc.data(), tlen, score, dir), ref);
    {
      SCOPED_TRACE("one pass");
      expect_same_alignment(sp.align(tc.data(), tlen, dir), ref);
    }
    {
      SCOPED_TRACE("32-bit lanes");
      expect_same_alignment(sp.align_wide(tc.data(), tlen, dir), ref);
    }
    compared += score > 0;
  }
  return compared;
}

std::string tandem(const std::string& unit, int copies) {
  std::string s;
  for (int k = 0; k < copies; ++k) s += unit;
  return s;
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

// What clustering runs: evaluate_one_pass against evaluate on real proteins against their
// neighbours in the file, homologs made from them at several divergences (around the identity
// threshold) and fragments (coverage), under the cluster defaults and a lenient setting.
TEST(Traceback, OnePassEvaluateMatchesEvaluateOnRealPairs) {
  const auto seqs = read_real_proteins(200);
  ASSERT_EQ(seqs.size(), 200u) << "data/mini-uniref/uniref90.fasta.gz not found (ESMPIPE_SOURCE_DIR)";
  std::mt19937 rng(5);
  const std::string letters = "ACDEFGHIKLMNPQRSTVWY";
  SearchParams lenient;
  lenient.coverage = 0.3, lenient.min_seq_id = 0.2, lenient.evalue = 10;
  int accepted = 0, rejected_after_traceback = 0;
  for (const SearchParams& p : {SearchParams{}, lenient}) {
    Aligner al(p, 30000000);
    for (size_t i = 0; i + 1 < seqs.size(); ++i) {
      const std::string& q = seqs[i];
      std::vector<std::string> targets = {seqs[i + 1], mutate(rng, q, 0.2, letters), mutate(rng, q, 0.45, letters),
                                          mutate(rng, q, 0.6, letters), q.substr(q.size() / 4, q.size() * 2 / 3)};
      al.set_query(q);
      for (size_t k = 0; k < targets.size(); ++k) {
        const auto tc = encode(targets[k]);
        Hit two, one;
        two.raw_score = one.raw_score = -1;  // "not filled" marker: both must leave it alike
        const bool two_ok = al.evaluate(tc.data(), int(tc.size()), two);
        const bool one_ok = al.evaluate_one_pass(tc.data(), int(tc.size()), one);
        SCOPED_TRACE("query " + std::to_string(i) + " target kind " + std::to_string(k));
        expect_same_hit(one_ok, one, two_ok, two);
        accepted += one_ok;
        rejected_after_traceback += !one_ok && one.raw_score >= 0;
      }
    }
  }
  EXPECT_GT(accepted, 300);  // both outcomes after a traceback are exercised
  EXPECT_GT(rejected_after_traceback, 100);
}

TEST(Traceback, WrongScoreIsAnError) {
  const Scoring& s = blosum62();
  const QueryProfile q = QueryProfile::build("MKTAYIAKQRQISFVKSHFSRQ", s);
  const auto t = encode("MKTAYIAKQRQISFVKSHFSRQ");
  const int score = sw_score_reference(q, t.data(), int(t.size()), s);
  TraceBuffer dir;
  EXPECT_THROW(sw_align_scored(q, t.data(), int(t.size()), s, score + 1, dir), esm::Error);
  EXPECT_EQ(sw_align_scored(q, t.data(), int(t.size()), s, score, dir).alnlen, int(t.size()));
}

TEST(Traceback, SimdLevelsRandomPairsAndGapCosts) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  std::mt19937 rng(91);
  const std::vector<std::string> alphabets = {"ACDEFGHIKLMNPQRSTVWY", "AG", "W", "KE", "LVI"};
  TraceBuffer dir;
  int compared = 0;
  for (int k = 0; k < 240; ++k) {
    const std::string& letters = alphabets[k % alphabets.size()];
    Scoring sc = blosum62();
    sc.composition_bias = k % 3 != 0;
    sc.gap_open = k % 4 == 0 ? 5 : (k % 4 == 1 ? 2 : 11);  // cheap gaps: long lazy-F chains
    sc.gap_extend = k % 7 == 0 ? 2 : 1;
    // Lengths around the lane counts (8, 16) and their multiples hit the striped edges.
    const int ql = k < 60 ? 1 + k % 40 : 1 + int(rng() % 400);
    const std::string q = random_protein(rng, ql, letters);
    compared += compare_levels(q, mutate(rng, q, 0.3, letters), sc, dir);
    compared += compare_levels(q, random_protein(rng, 1 + int(rng() % 400), letters), sc, dir);
  }
  EXPECT_GT(compared, 600);
}

// Targets missing a long stretch of the query: in the columns after the cut, the vertical (F) gap
// runs down several lanes, up to all of them, so F entering each lane comes from the carry across
// lanes (the fills' max-scan) rather than from within the lane.
TEST(Traceback, SimdLevelsLongVerticalGaps) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  std::mt19937 rng(2718);
  const std::string letters = "ACDEFGHIKLMNPQRSTVWY";
  TraceBuffer dir;
  int compared = 0;
  for (int k = 0; k < 48; ++k) {
    Scoring sc = blosum62();
    sc.gap_open = k % 3 == 0 ? 11 : (k % 3 == 1 ? 5 : 2);
    sc.gap_extend = k % 4 == 3 ? 2 : 1;
    const int ql = 60 + int(rng() % 900);
    const std::string q = random_protein(rng, ql, letters);
    const int cut = int(rng() % (ql / 4)), gap = 10 + int(rng() % (ql * 7 / 10));
    const std::string t = q.substr(0, cut) + q.substr(std::min(ql, cut + gap));
    compared += compare_levels(q, mutate(rng, t, 0.1, letters), sc, dir);
    compared += compare_levels(q, t + random_protein(rng, 40, letters) + q.substr(0, ql / 3), sc, dir);
  }
  EXPECT_GT(compared, 150);
}

TEST(Traceback, SimdLevelsLowComplexityAndRepeats) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  Scoring nobias = blosum62();
  nobias.composition_bias = false;  // keeps repeats scoring high: more equal-score paths
  TraceBuffer dir;
  for (const Scoring& sc : {blosum62(), nobias}) {
    compare_levels(std::string(300, 'A'), std::string(280, 'A'), sc, dir);
    compare_levels(std::string(257, 'W'), std::string(300, 'W'), sc, dir);
    compare_levels(std::string(200, 'A') + "KKKK" + std::string(50, 'A'), std::string(240, 'A'), sc, dir);
    const std::string rep = tandem("GPPGAPG", 40);
    compare_levels(rep, rep.substr(3) + "QQQ" + rep.substr(0, 100), sc, dir);
    compare_levels(tandem("QQQH", 60), tandem("QQH", 90), sc, dir);
    compare_levels(tandem("SG", 150), tandem("SGG", 90), sc, dir);
    compare_levels(tandem("EEKK", 33) + "MW" + tandem("EEKK", 31), tandem("EKEK", 70), sc, dir);
    compare_levels(tandem("PEST", 25), std::string(80, 'P') + tandem("ST", 30), sc, dir);
  }
}

TEST(Traceback, SimdLevelsLongPairs) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  std::mt19937 rng(4001);
  const std::string letters = "ACDEFGHIKLMNPQRSTVWY";
  TraceBuffer dir;
  const std::string q = random_protein(rng, 4300, letters);
  compare_levels(q, mutate(rng, q, 0.25, letters), blosum62(), dir);     // near full length
  compare_levels(q, mutate(rng, q.substr(1500, 2600), 0.4, letters) + random_protein(rng, 1500, letters),
                 blosum62(), dir);                                       // local hit
  compare_levels(tandem("GAP", 1400), tandem("GAAP", 1050), blosum62(), dir);  // repeats, 4200 x 4200
}

TEST(Traceback, SimdSaturationTakesWideLanesExactly) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  // 11 * 6500 > 65535: scores past 16 bits take the 32-bit fill (align_wide), still the
  // reference's result, in align_scored and align alike.
  Scoring nobias = blosum62();
  nobias.composition_bias = false;
  TraceBuffer dir;
  EXPECT_EQ(compare_levels(std::string(6500, 'W'), std::string(6400, 'W'), nobias, dir),
            int(simd_levels().size()));
  // A long homolog pair past 16 bits, with gaps: W-rich so that 6,000 residues reach the limit.
  std::mt19937 rng(4243);
  const std::string rich = "WWWWWWWWWCCHYF";
  const std::string q = random_protein(rng, 7500, rich), t = mutate(rng, q, 0.05, rich);
  const auto tc = encode(t);
  ASSERT_GT(sw_score_reference(QueryProfile::build(q, nobias), tc.data(), int(tc.size()), nobias), 0xFFFF);
  compare_levels(q, t, nobias, dir);
  // Below the limit the 16-bit fill runs: 5000 W x 11 = 55000 (+ max profile value + bias < 65535).
  const std::string w(5000, 'W');
  compare_levels(w, w.substr(0, 2000) + "AAAA" + w.substr(2000), nobias, dir);
}

TEST(Traceback, TargetsPast16BitColumnsTakeWideLanes) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  // A target of 70,000 residues (more columns than 16 bits count) holding a homolog of the query.
  std::mt19937 rng(4244);
  const std::string letters = "ACDEFGHIKLMNPQRSTVWY";
  const std::string q = random_protein(rng, 120, letters);
  const std::string t = random_protein(rng, 40000, letters) + mutate(rng, q, 0.2, letters) +
                        random_protein(rng, 30000, letters);
  TraceBuffer dir;
  EXPECT_EQ(compare_levels(q, t, blosum62(), dir), int(simd_levels().size()));
}

TEST(Traceback, SimdWrongScoreIsAnError) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU without SSE4.1: only the scalar path runs";
  const Scoring& s = blosum62();
  const QueryProfile q = QueryProfile::build("MKTAYIAKQRQISFVKSHFSRQ", s);
  const auto t = encode("MKTAYIAKQRQISFVKSHFSRQ");
  TraceBuffer dir;
  for (SimdLevel l : simd_levels()) {
    StripedProfile sp(q, s, l);
    const int score = sp.score(t.data(), int(t.size()));
    EXPECT_THROW(sp.align_scored(t.data(), int(t.size()), score + 1, dir), esm::Error);
    EXPECT_EQ(sp.align_scored(t.data(), int(t.size()), score, dir).alnlen, int(t.size()));
  }
}

TEST(TraceBuffer, GrowsWithHeadroomAlignedAndDropsHugeMatrices) {
  TraceBuffer buf;
  uint8_t* a = buf.reserve(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % TraceBuffer::kAlign, 0u);
  a[999] = 7;
  EXPECT_EQ(buf.reserve(1000)[999], 7);  // kept: no re-allocation for a pair that fits
  buf.reserve(1001)[1000] = 9;
  EXPECT_GE(buf.capacity(), 1500u);      // grown with headroom, not to exactly 1001
  buf.release_if_large();
  EXPECT_GE(buf.capacity(), 1500u);
  buf.reserve(TraceBuffer::kKeepBytes + 1);  // never touched: costs address space only
  EXPECT_GE(buf.oversize_capacity(), TraceBuffer::kKeepBytes + 1);
  EXPECT_EQ(buf.reserve(1001)[1000], 9);  // the kept storage is not replaced by a huge pair's
  buf.release_if_large();
  EXPECT_EQ(buf.oversize_capacity(), 0u);
  EXPECT_GE(buf.capacity(), 1500u);
}

TEST(TraceBuffer, PrefaultSizesOnceAndStaysWithinTheKeptSize) {
  TraceBuffer buf;
  buf.prefault(3 << 20);
  EXPECT_GE(buf.capacity(), size_t(3) << 20);
  const uint8_t* a = buf.reserve(size_t(3) << 20);
  EXPECT_EQ(a[0], 0);
  EXPECT_EQ(a[(size_t(3) << 20) - 1], 0);  // touched: written, not just reserved
  EXPECT_EQ(buf.reserve(size_t(3) << 20), a);  // no re-allocation for pairs up to that size
  TraceBuffer capped;
  capped.prefault(TraceBuffer::kKeepBytes * 4);  // a titin-size pair is not pinned for the run
  EXPECT_EQ(capped.capacity(), TraceBuffer::kKeepBytes);
  capped.reserve(TraceBuffer::kKeepBytes + 1);
  capped.release_if_large();
  EXPECT_EQ(capped.capacity(), TraceBuffer::kKeepBytes);
}
