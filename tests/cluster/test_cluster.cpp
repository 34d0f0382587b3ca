// Clustering units on real proteins (data/mini-uniref): k-mer selection against its plain
// reference, the distributed lazy greedy against the serial greedy over exhaustively verified
// pairs, and the assignment rule (best identity, ties to the lowest representative).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>

#include "align/aligner.hpp"
#include "cluster/assign_members.hpp"
#include "cluster/greedy.hpp"
#include "cluster/identity_gate.hpp"
#include "cluster/kmer_groups.hpp"
#include "cluster/kmer_select.hpp"
#include "cluster/linclust.hpp"
#include "cluster/pair_message.hpp"
#include "cluster/residue_table.hpp"
#include "io/fasta.hpp"

using namespace esm::cluster;

namespace {

std::string source_dir() {
  const char* d = std::getenv("ESMPIPE_SOURCE_DIR");
  return d ? d : ESMPIPE_SOURCE_DIR_DEFAULT;
}

const std::vector<esm::io::FastaRecord>& uniref90() {
  static const auto records = esm::io::read_all(source_dir() + "/data/mini-uniref/uniref90.fasta.gz");
  return records;
}

// Every `every`-th record: a spread-out real subset.
std::vector<std::string_view> every_nth(size_t every, size_t limit) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < uniref90().size() && out.size() < limit; i += every) out.push_back(uniref90()[i].seq);
  return out;
}

}  // namespace

TEST(ClusterKmers, ReducedAlphabetGroupsAndBreaks) {
  EXPECT_EQ(reduced_letter('I'), reduced_letter('V'));
  EXPECT_EQ(reduced_letter('K'), reduced_letter('R'));
  EXPECT_EQ(reduced_letter('B'), reduced_letter('N'));
  EXPECT_EQ(reduced_letter('U'), reduced_letter('C'));
  EXPECT_NE(reduced_letter('W'), reduced_letter('F'));
  EXPECT_EQ(reduced_letter('X'), kNoLetter);
  // A k-mer never spans an X.
  KmerParams p{5, 100};
  EXPECT_EQ(select_kmers_reference("ACDEXGHIK", p).size(), 0u);
  EXPECT_EQ(select_kmers_reference("ACDEFG", p).size(), 2u);
  // Conservative substitutions keep the k-mer.
  auto a = select_kmers_reference("MKDEFGHST", p), b = select_kmers_reference("LRNQYGHAS", p);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].code, b[i].code);
}

TEST(ClusterKmers, FastSelectionEqualsReferenceOnRealProteins) {
  auto seqs = every_nth(37, 400);
  std::string motif;  // 12 copies of 31 residues: few distinct k-mers among many, so the fast
  for (int r = 0; r < 12; ++r) motif += "MKTAYIAKQRQISFVKSHFSRQLEERLGLIE";  // selection widens
  seqs.push_back(motif);
  seqs.push_back("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");  // one distinct k-mer
  seqs.push_back("ACACACACACACACACACACACACACACACACACACACACACACACAC");                // repeats
  for (int k : {5, 8, 10, 12, 17})
    for (int m : {1, 5, 20, 100}) {
      KmerParams p{k, m};
      for (auto s : seqs) {
        std::vector<SelectedKmer> fast;
        select_kmers(s, p, fast);
        auto ref = select_kmers_reference(s, p);
        ASSERT_EQ(fast.size(), ref.size()) << "k=" << k << " m=" << m;
        for (size_t i = 0; i < ref.size(); ++i) {
          ASSERT_EQ(fast[i].code, ref[i].code);
          ASSERT_EQ(fast[i].pos, ref[i].pos);
        }
      }
    }
}

// Random graphs with a random accept relation: the distributed lazy greedy (one rank here)
// must give exactly the serial greedy over the accepted edges.
TEST(ClusterResidues, TableKeepsTheFirstResiduesAndGrowsPastItsGuess) {
  // Clustered ids (one step's are) and spread ones, far more than the table was sized for.
  std::vector<uint64_t> ids;
  for (uint64_t g = 0; g < 3000; ++g) ids.push_back(1000000 + g);
  std::mt19937_64 rng(7);
  for (int k = 0; k < 3000; ++k) ids.push_back(rng() >> 1);
  std::vector<std::string> res;
  for (uint64_t g : ids) res.push_back(std::to_string(g) + "r");
  esm::cluster::ResidueTable table(10);
  int asked = 0;
  for (size_t k = 0; k < ids.size(); ++k)
    table.add(ids[k], [&] { return ++asked, std::string_view(res[k]); });
  table.add(ids[5], [&] { return ++asked, std::string_view("other"); });  // present: not asked
  std::set<uint64_t> distinct(ids.begin(), ids.end());
  EXPECT_EQ(table.size(), distinct.size());
  EXPECT_EQ(size_t(asked), distinct.size());
  for (size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(table.at(ids[k]), std::to_string(ids[k]) + "r");
  EXPECT_THROW(table.at(999), esm::Error);
}

TEST(ClusterResidues, PairMessageCarriesPairsAndEachSequenceOnce) {
  const std::map<uint64_t, std::string> seqs = {{4, "MKV"}, {9, "AAAC"}, {12, "W"}};
  const std::vector<esm::cluster::Pair> pairs = {{4, 9}, {4, 12}, {9, 12}};
  int asked = 0;
  const std::string msg = esm::cluster::pack_pairs(pairs, [&](uint64_t g) { return ++asked, std::string_view(seqs.at(g)); });
  EXPECT_EQ(asked, 3);
  std::vector<esm::cluster::Pair> got;
  esm::cluster::ResidueTable table(2);
  EXPECT_EQ(esm::cluster::unpack_pairs(msg, got, table), 3u);
  ASSERT_EQ(got.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(got[k].center == pairs[k].center && got[k].member == pairs[k].member);
  for (const auto& [g, s] : seqs) EXPECT_EQ(table.at(g), s);
  EXPECT_THROW(esm::cluster::unpack_pairs(msg.substr(0, msg.size() - 1), got, table), esm::Error);
}

TEST(ClusterGreedy, LazyGreedyEqualsSerialGreedyOnRandomGraphs) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    size_t n = 1 + rng() % 60;
    std::vector<uint32_t> lens(n);
    for (auto& l : lens) l = 1 + uint32_t(rng() % 8);  // many ties
    auto precedes = [&](uint64_t a, uint64_t b) { return lens[a] != lens[b] ? lens[a] > lens[b] : a < b; };
    std::vector<Pair> cand, accepted;
    std::set<std::pair<uint64_t, uint64_t>> ok;
    for (size_t e = 0; e < n * 2; ++e) {
      uint64_t a = rng() % n, b = rng() % n;
      if (a == b) continue;
      if (!precedes(a, b)) std::swap(a, b);
      cand.push_back({a, b});
      if (rng() % 3) {
        ok.insert({a, b});
        accepted.push_back({a, b});
      }
    }
    std::sort(cand.begin(), cand.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
    GreedyStats stats;
    uint64_t asked = 0;
    auto rep = greedy_assign(
        lens, single_partition(n), cand, [&](uint64_t g) { return lens[g]; },
        [&](const std::vector<Pair>& batch) {
          std::vector<uint8_t> r;
          for (const Pair& p : batch) r.push_back(ok.count({p.center, p.member}) ? 1 : 0);
          asked += batch.size();
          return r;
        },
        stats);
    EXPECT_EQ(rep, greedy_reference(lens, accepted)) << "round " << round;
    EXPECT_LE(asked, cand.size());
  }
}

// Real proteins: every candidate pair verified exhaustively with the exact scalar aligner, the
// serial greedy over those, and linclust() (which aligns lazily with the fast path) must agree;
// with the identity gate on, the serial greedy runs over the exactly accepted pairs the gate
// lets through.
TEST(ClusterGreedy, LinclustEqualsSerialGreedyOverExactlyVerifiedPairs) {
  // The first records: UniRef90 clusters come largest first, and large families have many
  // UniRef90 representatives, so this slice is rich in homologs.
  auto seqs = every_nth(1, 1200);
  for (double gate : {0.0, kDefaultIdentityGate}) {
    ClusterOptions opt;
    opt.threads = 2;
    opt.identity_gate = gate;
    auto part = single_partition(seqs.size());
    ClusterStats stats;
    auto rep = linclust(seqs, part, opt, stats);

    auto tuples = route_kmers({SequenceSet{seqs, 0, 0, {}}}, opt.kmers, 1);
    auto cand = center_pairs(tuples);
    cand = route_pairs_to_members(cand, part);
    const auto pass = identity_gate(cand, [&](uint64_t g) { return seqs[g]; }, opt.search, gate, 2);
    uint64_t residues = 0;
    for (auto s : seqs) residues += s.size();
    esm::align::Aligner al(opt.search, residues);
    std::vector<Pair> accepted;
    std::vector<uint32_t> lens;
    for (auto s : seqs) lens.push_back(uint32_t(s.size()));
    size_t exact = 0, gated_true = 0;
    for (size_t k = 0; k < cand.size(); ++k) {
      const Pair& p = cand[k];
      al.set_query(seqs[p.center]);
      auto codes = esm::align::encode(seqs[p.member]);
      esm::align::Hit hit;
      if (!al.evaluate(codes.data(), int(codes.size()), hit, /*use_fast=*/false)) continue;
      ++exact;
      if (pass[k]) accepted.push_back(p);
      else ++gated_true;
    }
    auto expect = greedy_reference(lens, accepted);
    EXPECT_EQ(rep, expect) << "identity gate " << gate;
    size_t clusters = 0;
    for (size_t i = 0; i < rep.size(); ++i) clusters += rep[i] == i;
    EXPECT_LT(clusters, seqs.size());  // the subset does contain homologs
    EXPECT_LE(stats.aligned, cand.size());
    const size_t gated = std::count(pass.begin(), pass.end(), 0);
    if (gate == 0) {
      EXPECT_EQ(gated, 0u);
      EXPECT_EQ(stats.gated, 0u);
    } else {
      EXPECT_GT(gated, cand.size() / 20);  // the gate does reject candidates here...
      EXPECT_LE(gated_true, exact / 200);  // ...but almost never a pair the rules accept
    }
    std::printf("subset, gate %.1f: %zu sequences, %zu clusters, %zu candidate pairs (%zu gated, %zu of %zu accepted "
                "pairs among them), %llu decided lazily (%llu by the gate)\n",
                gate, seqs.size(), clusters, cand.size(), gated, gated_true, exact, (unsigned long long)stats.aligned,
                (unsigned long long)stats.gated);
  }
}

TEST(ClusterAssign, BestIdentityWinsAndTiesGoToTheLowestRepresentative) {
  // A real protein and copies with a known number of substitutions (every 7th / 4th residue).
  std::string base(uniref90()[100].seq.substr(0, 300));
  auto mutate = [&](size_t every) {
    std::string s = base;
    for (size_t i = 3; i < s.size(); i += every) s[i] = s[i] == 'W' ? 'G' : 'W';
    return s;
  };
  std::string unrelated(uniref90()[5000].seq);
  // reps: 0 unrelated, 1 25% changed, 2 ~14% changed, 3 identical, 4 identical (tie, higher index)
  std::vector<std::string> reps = {unrelated, mutate(4), mutate(7), base, base};
  std::vector<std::string> members = {base, mutate(7), unrelated.substr(0, 100) + "W"};
  std::vector<std::string_view> rv(reps.begin(), reps.end()), mv(members.begin(), members.end());
  AssignOptions o;
  o.passes = {{8, 60}};
  auto a = assign_to_representatives(rv, mv, uniref_membership_params(), 2, o);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].rep, 3);  // identical, lowest index of the two identical ones
  EXPECT_DOUBLE_EQ(a[0].identity, 1.0);
  EXPECT_EQ(a[1].rep, 2);  // itself among the reps
  EXPECT_EQ(a[2].rep, 0);  // a fragment of the unrelated protein: covered member, 100% identity
  EXPECT_NE(membership_method(uniref_membership_params()).find("min_seq_id 0.5"), std::string::npos);
}

// The per-center profile build's composition bias: the tabulated, rounded values must be the
// plain loop's floats rounded as the profile rounds them (any difference could change a score).
TEST(ClusterProfile, RoundedCompositionBiasEqualsReference) {
  auto rounded_reference = [](const std::vector<uint8_t>& codes, const esm::align::Scoring& scoring) {
    std::vector<int> out;
    for (float b : esm::align::composition_bias_reference(codes, scoring)) out.push_back(int(b < 0 ? b - 0.5f : b + 0.5f));
    return out;
  };
  const auto& scoring = esm::align::blosum62();
  size_t checked = 0;
  for (std::string_view s : every_nth(7, 2000)) {
    const auto codes = esm::align::encode(s);
    ASSERT_EQ(esm::align::composition_bias_rounded(codes, scoring), rounded_reference(codes, scoring))
        << "sequence " << s.substr(0, 20);
    ++checked;
  }
  EXPECT_GT(checked, 1000u);
  std::mt19937 rng(7);  // every letter code, including X/B/Z/U/O's, short sequences, another matrix
  esm::align::Scoring other = scoring;
  for (auto& row : other.matrix)
    for (auto& v : row) v = int8_t(int(rng() % 31) - 15);
  for (int k = 0; k < 400; ++k) {
    std::vector<uint8_t> codes(1 + rng() % 100);
    for (auto& c : codes) c = uint8_t(rng() % esm::align::kAlphabet);
    const esm::align::Scoring& sc = k % 2 ? scoring : other;
    EXPECT_EQ(esm::align::composition_bias_rounded(codes, sc), rounded_reference(codes, sc));
  }
}
