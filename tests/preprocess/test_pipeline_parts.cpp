// Unit tests of the preprocess pipeline's parts: membership parsers on UniProt's own XML
// fixtures, work-file round trips, the counter-based permutation, input error messages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.hpp"
#include "pipeline/byte_stream.hpp"
#include "pipeline/counter_rng.hpp"
#include "pipeline/membership.hpp"
#include "pipeline/record_file.hpp"

namespace fs = std::filesystem;
using namespace esm::prep;

namespace {
std::string source(const std::string& rel) {
  const char* s = std::getenv("ESMPIPE_SOURCE_DIR");
  return (fs::path(s ? s : ESMPIPE_SOURCE_DIR_DEFAULT) / rel).string();
}
std::multimap<std::string, std::string> pairs_of(const std::string& path, MembershipStats* stats = nullptr) {
  std::multimap<std::string, std::string> out;
  MembershipStats s = read_membership(path, [&](const MembershipPair& p) {
    out.emplace(std::string(p.uniref90), std::string(p.uniref50));
  });
  if (stats) *stats = s;
  return out;
}
fs::path temp_file(const std::string& name, const std::string& content) {
  fs::path p = fs::temp_directory_path() / ("esm_pp_unit_" + name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}
}  // namespace

// Expected numbers counted from the files with grep (distinct "UniRef90 ID" values per entry).
TEST(Membership, UniRef50XmlFixture) {
  MembershipStats s;
  auto pairs = pairs_of(source("data/uniref-xml/UniRef50_Q9EPI6.xml"), &s);
  EXPECT_EQ(s.format, "uniref50-xml");
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(pairs.size(), 5u);
  for (const auto& [u90, u50] : pairs) EXPECT_EQ(u50, "UniRef50_Q9EPI6");
  EXPECT_EQ(pairs.count("UniRef90_Q9EPI6"), 1u);
}

TEST(Membership, IndentedMultiEntryXmlWithUniParcMembers) {
  MembershipStats s;
  auto pairs = pairs_of(source("data/uniref-xml/50_Q9EPS7_Q95604.xml"), &s);
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(pairs.size(), 19u + 51u);
  EXPECT_EQ(s.members_without_uniref90_id, 0u);
  size_t first = 0;
  for (const auto& [u90, u50] : pairs) first += u50 == "UniRef50_Q9EPS7";
  EXPECT_EQ(first, 19u);
  EXPECT_EQ(pairs.find("UniRef90_Q9EPT1")->second, "UniRef50_Q9EPS7");  // a UniParc-only member
}

TEST(Membership, UniRef90XmlGivesOnePairPerEntry) {
  MembershipStats s;
  auto pairs = pairs_of(source("data/uniref-xml/UniRef90_Q9EPI6.xml"), &s);
  EXPECT_EQ(s.format, "uniref90-xml");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs.begin()->first, "UniRef90_Q9EPI6");
  EXPECT_EQ(pairs.begin()->second, "UniRef50_Q9EPI6");
}

TEST(Membership, UniRef100XmlIsRefused) {
  try {
    pairs_of(source("data/uniref-xml/UniRef100_Q9EPI6.xml"));
    FAIL() << "no error";
  } catch (const esm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("UniRef100 entry"), std::string::npos) << e.what();
  }
}

TEST(Membership, ReleaseRootAndTsvHeaderHandling) {
  auto xml = temp_file("root.xml",
                       "<?xml version='1.0'?>\n<UniRef50 releaseDate=\"x\">\n<entry id=\"UniRef50_A\">\n"
                       "<representativeMember><dbReference type=\"UniProtKB ID\" id=\"A_X\">\n"
                       "<property type=\"UniRef90 ID\" value=\"UniRef90_A\"/></dbReference></representativeMember>\n"
                       "<member><dbReference type=\"UniProtKB ID\" id=\"B_X\">"
                       "<property type=\"UniRef90 ID\" value=\"UniRef90_B\"/></dbReference></member>\n"
                       "</entry>\n</UniRef50>\n");
  auto pairs = pairs_of(xml.string());
  EXPECT_EQ(pairs.size(), 2u);
  auto with_header = temp_file("h.tsv", "uniref90_id\tuniref50_id\nUniRef90_A\tUniRef50_A\r\nUniRef90_B\tUniRef50_A\n");
  auto without = temp_file("n.tsv", "UniRef90_A\tUniRef50_A\nUniRef90_B\tUniRef50_A\n");
  EXPECT_EQ(pairs_of(with_header.string()), pairs_of(without.string()));
  EXPECT_EQ(pairs_of(without.string()).size(), 2u);
  auto bad = temp_file("bad.tsv", "UniRef90_A\tUniRef50_A\nUniRef90_B UniRef50_A\n");
  try {
    pairs_of(bad.string());
    FAIL() << "no error";
  } catch (const esm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.tsv:2:"), std::string::npos) << e.what();
  }
}

TEST(RecordFile, RoundTripManyAndLargeRecords) {
  fs::path p = fs::temp_directory_path() / "esm_pp_unit_records.zst";
  std::vector<std::string> recs;
  for (int i = 0; i < 5000; ++i) recs.push_back(std::string(static_cast<size_t>(i % 97), static_cast<char>('A' + i % 26)));
  recs.push_back(std::string(3 << 20, 'Q'));  // larger than one decoder buffer
  recs.push_back("");
  {
    RecordWriter w(p.string());
    for (const auto& r : recs) w.put(r);
    w.close();
  }
  RecordReader r(p.string());
  std::string_view v;
  size_t i = 0;
  while (r.next(v)) {
    ASSERT_LT(i, recs.size());
    EXPECT_EQ(v, recs[i]);
    ++i;
  }
  EXPECT_EQ(i, recs.size());
  // A truncated work file is an error, not a short read.
  fs::resize_file(p, fs::file_size(p) / 2);
  RecordReader t(p.string());
  EXPECT_THROW({ while (t.next(v)) {} }, esm::Error);
}

TEST(CounterRng, FeistelIsABijectionForEveryDomainSize) {
  for (uint64_t n : {1ull, 2ull, 3ull, 7ull, 64ull, 1000ull, 4097ull}) {
    FeistelPermutation perm(n, 12345);
    std::set<uint64_t> seen;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t v = perm(i);
      ASSERT_LT(v, n);
      seen.insert(v);
    }
    EXPECT_EQ(seen.size(), n);
  }
  // Different keys give different orders.
  FeistelPermutation a(1000, 1), b(1000, 2);
  int same = 0;
  for (uint64_t i = 0; i < 1000; ++i) same += a(i) == b(i);
  EXPECT_LT(same, 20);
}

TEST(CounterRng, UniformBelowStaysInRange) {
  for (uint64_t i = 0; i < 10000; ++i) EXPECT_LT(uniform_below(mix64(i), 7), 7u);
  EXPECT_EQ(uniform_below(~uint64_t(0), 1), 0u);
}

TEST(ByteStream, TruncatedGzipIsAnError) {
  // gzip of 200 KB of text, cut in half.
  fs::path plain = temp_file("plain.txt", std::string(200000, 'x') + "\n");
  std::string cmd = "gzip -c " + plain.string() + " > " + plain.string() + ".gz";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  fs::path gz = plain.string() + ".gz";
  {
    LineReader ok(gz.string());
    std::string line;
    ASSERT_TRUE(ok.next(line));
    EXPECT_EQ(line.size(), 200000u);
  }
  fs::resize_file(gz, fs::file_size(gz) - 10);
  LineReader cut(gz.string());
  std::string line;
  EXPECT_THROW({ while (cut.next(line)) {} }, esm::Error);
}
