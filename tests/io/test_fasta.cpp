#include <gtest/gtest.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include <functional>
#include "fasta_testutil.hpp"
#include "io/fasta.hpp"
#include "io/residues.hpp"
#include "io/stream_index.hpp"

using namespace esm::io;
using namespace esm::io::testutil;

namespace {

void expect_same(const std::vector<FastaRecord>& got, const std::vector<FastaRecord>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, want[i].id) << what << " record " << i;
    EXPECT_EQ(got[i].description, want[i].description) << what << " record " << i;
    EXPECT_EQ(got[i].seq, want[i].seq) << what << " record " << i;
    EXPECT_EQ(got[i].offset, want[i].offset) << what << " record " << i;
  }
}

// The union of shards 0..P-1, in shard order.
std::vector<FastaRecord> read_sharded(const std::string& path, int nshards) {
  std::vector<FastaRecord> all;
  for (int s = 0; s < nshards; ++s) {
    ShardReader reader(path, s, nshards);
    FastaRecord rec;
    while (reader.next(rec)) all.push_back(rec);
  }
  return all;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const esm::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Residues, PolicyFoldsStripsAndRejects) {
  std::string s = "acdEFg**";
  EXPECT_TRUE(apply_residue_policy(s).ok);
  EXPECT_EQ(s, "ACDEFG");
  std::string all = "ACDEFGHIKLMNPQRSTVWYXBUZO";
  EXPECT_TRUE(apply_residue_policy(all).ok);
  std::string bad = "AC*D";
  auto c = apply_residue_policy(bad);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.bad_index, 2u);
  EXPECT_EQ(c.bad_char, '*');
  std::string j = "ACJ";  // J is not one of ESM's letters
  EXPECT_FALSE(apply_residue_policy(j).ok);
  std::string digit = "A1";
  EXPECT_EQ(apply_residue_policy(digit).bad_char, '1');
}

TEST(UniRefHeader, ParsedFromTheRight) {
  auto h = parse_uniref_header("Cluster: Protein (fragment) n=12 Tax=Homo sapiens (Human) TaxID=9606 RepID=ABC_HUMAN");
  EXPECT_EQ(h.name, "Cluster: Protein (fragment)");
  EXPECT_EQ(h.n, 12);
  EXPECT_EQ(h.tax, "Homo sapiens (Human)");
  EXPECT_EQ(h.taxid, "9606");
  EXPECT_EQ(h.repid, "ABC_HUMAN");
  auto old = parse_uniref_header("Some name n=1 Tax=root RepID=X_Y");
  EXPECT_EQ(old.name, "Some name");
  EXPECT_EQ(old.n, 1);
  EXPECT_EQ(old.tax, "root");
  EXPECT_EQ(old.taxid, "");
  EXPECT_EQ(old.repid, "X_Y");
  auto sp = parse_uniref_header("Hemoglobin subunit alpha OS=Homo sapiens OX=9606");
  EXPECT_EQ(sp.name, "Hemoglobin subunit alpha OS=Homo sapiens OX=9606");
  EXPECT_EQ(sp.n, -1);
}

TEST(Fasta, EdgeCases) {
  TempDir dir;
  std::string text = "\n\r\n>a first  record \r\nAC\r\ndE  \r\n\r\n>b\n>c\tdesc\nxbuzo*\n\n>d\nMK";
  write_bytes(dir.file("e.fa"), text);
  auto recs = read_all(dir.file("e.fa"));
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].id, "a");
  EXPECT_EQ(recs[0].description, "first  record");
  EXPECT_EQ(recs[0].seq, "ACDE");
  EXPECT_EQ(recs[0].offset, 3u);
  EXPECT_EQ(recs[1].id, "b");
  EXPECT_EQ(recs[1].seq, "");
  EXPECT_EQ(recs[2].description, "desc");
  EXPECT_EQ(recs[2].seq, "XBUZO");
  EXPECT_EQ(recs[3].seq, "MK");
}

TEST(Fasta, InvalidResidueNamesFileLineRecordAndChar) {
  TempDir dir;
  write_bytes(dir.file("bad.fa"), ">ok\nACD\n>broken thing\nACDE\nAC1D\n>ok2\nMM\n");
  std::string msg = error_of([&] { read_all(dir.file("bad.fa")); });
  EXPECT_NE(msg.find("bad.fa:5:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("broken"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'1'"), std::string::npos) << msg;

  ReadOptions skip{InvalidPolicy::Skip};
  ShardReader reader(dir.file("bad.fa"), 0, 1, skip);
  FastaRecord r;
  std::vector<std::string> ids;
  while (reader.next(r)) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ok", "ok2"}));
  EXPECT_EQ(reader.skipped(), 1u);
  EXPECT_EQ(reader.skipped_ids(), std::vector<std::string>{"broken"});
}

TEST(Fasta, LineNumbersInLaterShardsAndCompressedStreams) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 500; ++i) text += ">r" + std::to_string(i) + "\nACDEFGHIKL\nMNPQ\n";
  text += ">bad\nAAAA\nAA#A\n";
  write_bytes(dir.file("l.fa"), text);
  write_bytes(dir.file("l.fa.gz"), gzip_member(text));
  write_bytes(dir.file("l.fa.zst"), zstd_frames(text, 1000));
  for (std::string f : {"l.fa", "l.fa.gz", "l.fa.zst"}) {
    std::string msg = error_of([&] { read_sharded(dir.file(f), 3); });
    EXPECT_NE(msg.find(f + ":1503:3: record bad: invalid residue '#'"), std::string::npos) << msg;
  }
  // With a sidecar of many restart points the line count comes from the nearest point.
  write_bytes(dir.file("l.fa.gz"), gzip_members(text, 3000));
  for (std::string f : {"l.fa.gz", "l.fa.zst"}) {
    esm::write_file_atomic(index_path(dir.file(f)), build_stream_index(dir.file(f), 2048).serialize(), true);
    StreamIndex idx;
    ASSERT_TRUE(load_sidecar_index(dir.file(f), idx));
    EXPECT_GT(idx.points.back().lines, 0u) << f;
    std::string msg = error_of([&] { read_sharded(dir.file(f), 5); });
    EXPECT_NE(msg.find(f + ":1503:3: record bad: invalid residue '#'"), std::string::npos) << msg;
  }
}

TEST(Fasta, NotFastaAndHeaderLimits) {
  TempDir dir;
  write_bytes(dir.file("t.txt"), "hello world\n>x\nAC\n");
  EXPECT_NE(error_of([&] { read_all(dir.file("t.txt")); }).find("t.txt:1: not FASTA"), std::string::npos);
  write_bytes(dir.file("empty.fa"), "");
  EXPECT_TRUE(read_all(dir.file("empty.fa")).empty());
  write_bytes(dir.file("noid.fa"), ">\nACD\n");
  EXPECT_NE(error_of([&] { read_all(dir.file("noid.fa")); }).find("no ID"), std::string::npos);
  write_bytes(dir.file("xz.fa"), std::string("\xfd" "7zXZ\0rest", 10));
  EXPECT_NE(error_of([&] { read_all(dir.file("xz.fa")); }).find("xz"), std::string::npos);
  EXPECT_NE(error_of([&] { read_all(dir.file("missing.fa")); }).find("missing.fa"), std::string::npos);
}

TEST(Fasta, CompressedFormatsMatchPlain) {
  TempDir dir;
  std::mt19937_64 rng(7);
  auto f = random_fasta(rng, 300, 400);
  write_bytes(dir.file("p.fa"), f.text);
  write_bytes(dir.file("single.gz"), gzip_member(f.text));
  write_bytes(dir.file("multi.gz"), gzip_members(f.text, 5000));
  write_bytes(dir.file("bgzf.gz"), gzip_members(f.text, 65280, true));
  write_bytes(dir.file("single.zst"), zstd_frames(f.text, 0));
  write_bytes(dir.file("multi.zst"), zstd_frames(f.text, 7000));
  expect_same(read_all(dir.file("p.fa")), f.records, "plain vs generator");
  for (std::string name : {"single.gz", "multi.gz", "bgzf.gz", "single.zst", "multi.zst"})
    expect_same(read_all(dir.file(name)), f.records, name);
}

TEST(Fasta, TruncatedCompressedInputFails) {
  TempDir dir;
  std::mt19937_64 rng(3);
  auto f = random_fasta(rng, 200, 300);
  std::string gz = gzip_member(f.text), zs = zstd_frames(f.text, 0);
  write_bytes(dir.file("t.gz"), gz.substr(0, gz.size() / 2));
  write_bytes(dir.file("t.zst"), zs.substr(0, zs.size() / 2));
  EXPECT_NE(error_of([&] { read_all(dir.file("t.gz")); }).find("truncated gzip"), std::string::npos);
  EXPECT_NE(error_of([&] { read_all(dir.file("t.zst")); }).find("truncated zstd"), std::string::npos);
  // Cut inside the 8-byte trailer: the data is complete but the member is not.
  write_bytes(dir.file("t2.gz"), gz.substr(0, gz.size() - 3));
  EXPECT_NE(error_of([&] { read_all(dir.file("t2.gz")); }).find("t2.gz"), std::string::npos);
  write_bytes(dir.file("junk.gz"), gz + "garbage!");
  EXPECT_NE(error_of([&] { read_all(dir.file("junk.gz")); }).find("not gzip"), std::string::npos);
}

// The property: for random FASTA with every edge case, the union of shards 0..P-1 equals the
// serial read, for P = 1..64, for plain, gzip (in-memory and sidecar indexes) and zstd inputs.
TEST(Sharding, UnionOfShardsEqualsSerialRead) {
  TempDir dir;
  for (int trial = 0; trial < 6; ++trial) {
    std::mt19937_64 rng(1000 + trial);
    auto f = random_fasta(rng, 1 + int(rng() % 60), 1 + int(rng() % 300));
    write_bytes(dir.file("p.fa"), f.text);
    auto serial = read_all(dir.file("p.fa"));
    expect_same(serial, f.records, "serial");
    for (int p = 1; p <= 64; ++p) expect_same(read_sharded(dir.file("p.fa"), p), serial, "plain P=" + std::to_string(p));

    // Compressed, one layout per trial; small spans so shards start at many restart points.
    std::string name;
    switch (trial) {
      case 0: name = "c.gz", write_bytes(dir.file(name), gzip_member(f.text)); break;
      case 1: name = "c.zst", write_bytes(dir.file(name), zstd_frames(f.text, 1000)); break;
      case 2: name = "c.gz", write_bytes(dir.file(name), gzip_members(f.text, 3000)); break;
      case 3: name = "c.zst", write_bytes(dir.file(name), zstd_frames(f.text, 0)); break;
      case 4: name = "c.gz", write_bytes(dir.file(name), gzip_members(f.text, 2000, true)); break;
      default: name = "c.zst", write_bytes(dir.file(name), zstd_frames(f.text, 300)); break;
    }
    std::string path = dir.file(name);
    std::filesystem::remove(index_path(path));
    for (int p : {1, 2, 3, 5, 8}) expect_same(read_sharded(path, p), serial, name + " in-memory index P=" + std::to_string(p));
    esm::write_file_atomic(index_path(path), build_stream_index(path, 512).serialize(), true);
    for (int p = 1; p <= 64; ++p) expect_same(read_sharded(path, p), serial, name + " sidecar P=" + std::to_string(p));
  }
}

TEST(Sharding, EveryShardGetsItsOwnRecordsAndEmptyShardsAreFine) {
  TempDir dir;
  std::string text = ">only one record\n" + std::string(10000, 'A') + "\n";
  write_bytes(dir.file("one.fa"), text);
  for (int p : {1, 2, 7, 64}) {
    int holders = 0;
    for (int s = 0; s < p; ++s) {
      ShardReader r(dir.file("one.fa"), s, p);
      FastaRecord rec;
      int n = 0;
      while (r.next(rec)) ++n;
      if (n) {
        ++holders;
        EXPECT_EQ(s, 0);
      }
    }
    EXPECT_EQ(holders, 1);
  }
}

TEST(Index, StaleOrDamagedSidecarIsRefused) {
  TempDir dir;
  std::mt19937_64 rng(11);
  auto f = random_fasta(rng, 2000, 200);
  std::string path = dir.file("s.fa.gz");
  write_bytes(path, gzip_member(f.text));
  esm::write_file_atomic(index_path(path), build_stream_index(path, 1024).serialize(), true);
  StreamIndex idx;
  EXPECT_TRUE(load_sidecar_index(path, idx));
  EXPECT_GT(idx.points.size(), 3u);
  int mid_byte = 0;  // restart points inside a byte exercise inflatePrime
  for (const auto& p : idx.points) mid_byte += p.bits != 0;
  EXPECT_GT(mid_byte, 0);
  auto serial = read_all(path);
  expect_same(serial, f.records, "gzip");
  for (int p = 1; p <= 16; ++p) expect_same(read_sharded(path, p), serial, "sidecar P=" + std::to_string(p));
  write_bytes(path, gzip_member(f.text + ">extra\nAC\n"));
  EXPECT_NE(error_of([&] { read_sharded(path, 2); }).find("stale"), std::string::npos);
  std::string bytes = esm::read_file(index_path(path));
  bytes[bytes.size() / 2] ^= 1;
  write_bytes(index_path(path), bytes);
  EXPECT_NE(error_of([&] { read_sharded(path, 2); }).find("damaged"), std::string::npos);
}
