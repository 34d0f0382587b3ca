// IdentityFilter against the exhaustive exact aligner on real proteins with planted homologs,
// first-hit determinism across thread counts, and output formats.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "align/aligner.hpp"
#include "filter/identity_filter.hpp"
#include "filter/output.hpp"

using namespace esm;

namespace {

std::vector<io::FastaRecord> real_records(size_t n) {
  const char* src = std::getenv("ESMPIPE_SOURCE_DIR");
  auto all = io::read_all(std::string(src ? src : ".") + "/data/mini-uniref/uniref50.fasta.gz");
  if (all.size() > n) all.resize(n);
  return all;
}

// A homolog at roughly the given identity: substitutions plus a few short indels.
std::string mutate(std::mt19937& rng, const std::string& s, double identity, double indel = 0.01) {
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> letter(0, 19);
  std::string out;
  for (char c : s) {
    const double r = u(rng);
    if (r < indel) continue;                                  // deletion
    if (r < 2 * indel) out += align::kLetters[letter(rng)];   // insertion
    out += u(rng) < identity ? c : align::kLetters[letter(rng)];
  }
  return out;
}

struct Fixture {
  std::vector<io::FastaRecord> targets, queries;
};

Fixture make_fixture() {
  std::mt19937 rng(3);
  auto recs = real_records(250);
  Fixture f;
  f.targets.assign(recs.begin(), recs.begin() + 100);
  f.queries.assign(recs.begin() + 100, recs.begin() + 250);  // unrelated real proteins
  std::uniform_real_distribution<double> id(0.45, 0.95);
  for (int k = 0; k < 100; ++k) {  // planted homologs of targets, 45-95% identity
    io::FastaRecord r;
    r.id = "planted_" + std::to_string(k);
    r.seq = mutate(rng, f.targets[k % 100].seq, id(rng));
    f.queries.push_back(r);
  }
  // Duplicate a target so one query has two accepted targets: the first must be reported.
  f.targets.push_back(f.targets[5]);
  f.targets.back().id = "copy_of_5";
  return f;
}

std::map<std::string, std::string> first_hits(const std::vector<align::Hit>& hits) {
  std::map<std::string, std::string> m;
  for (const auto& h : hits) m.emplace(h.query, h.target);
  return m;
}

}  // namespace

TEST(IdentityFilter, AgreesWithExhaustiveExactSearch) {
  const Fixture f = make_fixture();
  align::SearchParams p;
  filter::IdentityFilter filt(f.targets, p, 2);
  const auto hits = filt.search(f.queries);
  // Ground truth: every query against every target (no seeds). The score gate may use the SIMD
  // kernel (test_align proves it equals the reference); the traceback and rules are the exact ones.
  uint64_t db = 0;
  for (const auto& t : f.targets) db += t.seq.size();
  align::Aligner exact(p, db);
  std::map<std::string, std::string> truth;
  for (const auto& q : f.queries) {
    exact.set_query(q.seq);
    for (const auto& t : f.targets) {
      const auto tc = align::encode(t.seq);
      align::Hit h;
      if (exact.evaluate(tc.data(), int(tc.size()), h)) {
        truth.emplace(q.id, t.id);
        break;
      }
    }
  }
  const auto ours = first_hits(hits);
  ASSERT_GT(truth.size(), 60u);
  size_t found = 0;
  std::string missed;
  for (const auto& [q, t] : truth) {
    found += ours.count(q);
    if (!ours.count(q)) missed += " " + q + "->" + t;
  }
  EXPECT_GE(double(found) / truth.size(), 0.99) << found << " of " << truth.size() << "; missed:" << missed;
  for (const auto& [q, t] : ours) EXPECT_TRUE(truth.count(q)) << q << " removed but not a true hit";
  // The first hit is the lowest accepted target index: the original, not its copy.
  for (const auto& h : hits)
    if (h.target == "copy_of_5") ADD_FAILURE() << h.query << " reported the later duplicate";
}

TEST(IdentityFilter, SameResultsForAnyThreadCount) {
  const Fixture f = make_fixture();
  std::string reference;
  for (int threads : {1, 2, 3}) {
    filter::IdentityFilter filt(f.targets, align::SearchParams{}, threads);
    std::string rows;
    filter::append_rows(filt.search(f.queries), rows, nullptr);
    if (threads == 1) reference = rows;
    else EXPECT_EQ(rows, reference) << threads << " threads";
  }
  EXPECT_FALSE(reference.empty());
}

TEST(IdentityFilter, AllHitsIsASupersetInTargetOrder) {
  const Fixture f = make_fixture();
  filter::IdentityFilter filt(f.targets, align::SearchParams{}, 2);
  const auto first = filt.search(f.queries);
  const auto all = filt.search(f.queries, true);
  EXPECT_GE(all.size(), first.size());
  EXPECT_EQ(first_hits(all), first_hits(first));
  bool saw_both = false;
  for (size_t k = 1; k < all.size(); ++k)
    if (all[k].query == all[k - 1].query && all[k].target == "copy_of_5") saw_both = true;
  EXPECT_TRUE(saw_both) << "the planted homolog of target 5 should hit the target and its copy";
}

TEST(IdentityFilter, StricterThresholdsRemoveFewer) {
  const Fixture f = make_fixture();
  align::SearchParams loose, strict;
  strict.min_seq_id = 0.8;
  const auto a = filter::IdentityFilter(f.targets, loose, 2).search(f.queries);
  const auto b = filter::IdentityFilter(f.targets, strict, 2).search(f.queries);
  EXPECT_LT(b.size(), a.size());
  for (const auto& h : b) EXPECT_GE(h.fident, 0.8);
}

TEST(IdentityGate, RequiredIdentitiesFollowTheRules) {
  align::SearchParams p;  // 0.5 identity over >= 0.8 of both: at least 0.4 x the longer length
  EXPECT_DOUBLE_EQ(align::required_identities(p, 100, 120), 48);
  p.cov_mode = 1;  // target covered
  EXPECT_DOUBLE_EQ(align::required_identities(p, 100, 120), 48);
  EXPECT_DOUBLE_EQ(align::required_identities(p, 120, 100), 40);
  p.cov_mode = 2;  // query covered
  EXPECT_DOUBLE_EQ(align::required_identities(p, 100, 120), 40);
  for (int mode : {3, 4, 5}) {  // length rules only: no bound
    p.cov_mode = mode;
    EXPECT_EQ(align::required_identities(p, 100, 120), 0) << mode;
  }
  p.seq_id_mode = 1;  // identical / shorter length, whatever the coverage
  EXPECT_DOUBLE_EQ(align::required_identities(p, 100, 120), 50);
  p.seq_id_mode = 2;
  EXPECT_DOUBLE_EQ(align::required_identities(p, 100, 120), 60);
}

TEST(IdentityGate, ThresholdNeverBelowTheUngappedGateAndOffWhereUnsafe) {
  align::SearchParams p;
  filter::FilterOptions o;  // 0.4 half bits per required identity
  EXPECT_EQ(filter::identity_gate_score(p, o, 27, 500, 450), 80);  // ceil(0.4 * 0.5 * 0.8 * 500)
  EXPECT_EQ(filter::identity_gate_score(p, o, 27, 50, 50), 27);    // short pairs: the 15-bit gate
  p.min_seq_id = 0.3;  // below the calibrated range
  EXPECT_EQ(filter::identity_gate_score(p, o, 27, 400, 400), 27);
  p.min_seq_id = 0.5;
  p.cov_mode = 5;
  EXPECT_EQ(filter::identity_gate_score(p, o, 27, 400, 400), 27);
  o.identity_gate = 0;
  p.cov_mode = 0;
  EXPECT_EQ(filter::identity_gate_score(p, o, 27, 400, 400), 27);
}

// Homologs near the 50% boundary with many indels (split diagonals) are where the gate could
// lose hits: the gated search must accept exactly the pairs the ungated one accepts, with far
// fewer SIMD scores, under several rule sets.
TEST(IdentityGate, KeepsEveryAcceptedPairOfTheUngatedSearch) {
  std::mt19937 rng(11);
  auto recs = real_records(300);
  std::vector<io::FastaRecord> targets(recs.begin(), recs.begin() + 120), queries(recs.begin() + 120, recs.end());
  std::uniform_real_distribution<double> id(0.45, 0.65), indel(0.0, 0.03);
  for (int k = 0; k < 150; ++k) {
    io::FastaRecord r;
    r.id = "near_" + std::to_string(k);
    r.seq = mutate(rng, targets[k % 120].seq, id(rng), indel(rng));
    queries.push_back(r);
  }
  auto rule_sets = std::vector<align::SearchParams>(4);
  rule_sets[1].min_seq_id = 0.4;
  rule_sets[2].cov_mode = 1, rule_sets[2].coverage = 0.6;
  rule_sets[3].seq_id_mode = 1, rule_sets[3].cov_mode = 5;
  for (const auto& p : rule_sets) {
    filter::FilterOptions off;
    off.identity_gate = 0;
    filter::IdentityFilter gated(targets, p, 2), ungated(targets, p, 2, off);
    const auto hg = gated.search(queries, true), hu = ungated.search(queries, true);
    const std::string what = "min-seq-id " + std::to_string(p.min_seq_id) + " cov-mode " + std::to_string(p.cov_mode) +
                             " seq-id-mode " + std::to_string(p.seq_id_mode);
    EXPECT_GT(hu.size(), 60u) << what;
    std::set<std::pair<std::string, std::string>> pairs_g, pairs_u;
    for (const auto& h : hg) pairs_g.emplace(h.query, h.target);
    for (const auto& h : hu) pairs_u.emplace(h.query, h.target);
    std::string lost;
    for (const auto& [q, t] : pairs_u)
      if (!pairs_g.count({q, t})) lost += " " + q + "->" + t;
    EXPECT_EQ(pairs_g, pairs_u) << what << ": the gate lost" << lost;
    EXPECT_LT(gated.stats().aligned * 3, ungated.stats().aligned) << what;
  }
}

TEST(Output, RowFormats) {
  align::Hit h;
  h.query = "q1", h.target = "t1", h.fident = 0.5123, h.alnlen = 100, h.qstart = 1, h.qend = 90;
  h.qlen = 100, h.tstart = 3, h.tend = 95, h.tlen = 100, h.evalue = 1.5e-20, h.bits = 80.26;
  EXPECT_EQ(filter::removed_row(h), "q1\tt1\t0.5123\t0.9000\t0.9300\t1.500e-20\n");
  EXPECT_EQ(filter::blast_tab_row(h), "q1\tt1\t0.512\t100\t1\t90\t100\t3\t95\t100\t1.500e-20\t80.3\n");
  std::string removed, all;
  align::Hit h2 = h;
  h2.target = "t2";
  filter::append_rows({h, h2}, removed, &all);
  EXPECT_EQ(removed, filter::removed_row(h));
  EXPECT_EQ(all, filter::blast_tab_row(h) + filter::blast_tab_row(h2));
}
