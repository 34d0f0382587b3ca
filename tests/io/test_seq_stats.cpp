#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "io/seq_stats.hpp"

using esm::io::SeqStats;

namespace {
SeqStats of(const std::vector<std::string>& seqs) {
  SeqStats s;
  for (const auto& q : seqs) s.add(q.data(), q.size());
  s.finish();
  return s;
}
}  // namespace

// Values from `seqkit stats -a` on the same lengths (Q2 and N50 columns).
TEST(SeqStats, MedianAndN50AsSeqkit) {
  auto a = of({"A", "AA", "AAA", "AAAA"});
  EXPECT_DOUBLE_EQ(a.median(), 2.5);
  EXPECT_EQ(a.n50(), 3u);
  auto b = of({"AA", "AA", "AAAA"});
  EXPECT_DOUBLE_EQ(b.median(), 2.0);
  EXPECT_EQ(b.n50(), 4u);
  auto c = of({"AAAA", "A", "A", "A", "AA"});  // half of 9 is 4.5: N50 is 2, not 4
  EXPECT_EQ(c.n50(), 2u);
  EXPECT_EQ(c.min_len, 1u);
  EXPECT_EQ(c.max_len, 4u);
}

TEST(SeqStats, HistogramFoldsCaseAndCountsInvalid) {
  auto s = of({"acDE**", "AC*D", "AJ1", "MK"});
  EXPECT_EQ(s.bytes['A'], 3u);
  EXPECT_EQ(s.bytes['C'], 2u);
  EXPECT_EQ(s.terminal_stops, 2u);
  EXPECT_EQ(s.invalid_chars(), 3u);  // '*' inside, 'J', '1'
  EXPECT_EQ(s.records_with_invalid, 2u);
}

// Merging per-rank parts (through serialisation) equals one pass, and the histogram median
// equals a sort of all lengths.
TEST(SeqStats, MergeEqualsSerialAndMedianMatchesSort) {
  std::mt19937 rng(5);
  std::vector<std::string> seqs;
  std::vector<uint64_t> lens;
  for (int i = 0; i < 2001; ++i) {
    size_t n = rng() % 3000 + (i % 97 == 0 ? 70000 : 0);
    seqs.push_back(std::string(n, "ACDXZ"[rng() % 5]));
    lens.push_back(n);
  }
  auto whole = of(seqs);
  SeqStats merged;
  for (int part = 0; part < 3; ++part) {
    SeqStats p;
    for (size_t i = part; i < seqs.size(); i += 3) p.add(seqs[i].data(), seqs[i].size());
    p.finish();
    merged.merge(SeqStats::deserialize(p.serialize()));
  }
  EXPECT_EQ(merged.serialize(), whole.serialize());
  std::sort(lens.begin(), lens.end());
  EXPECT_DOUBLE_EQ(whole.median(), double(lens[lens.size() / 2]));
}
