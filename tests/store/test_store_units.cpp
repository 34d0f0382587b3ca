// Unit tests of the store's building blocks: half conversion, layout, lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.hpp"
#include "store/half.hpp"
#include "store/layout.hpp"
#include "store/lock.hpp"

using namespace esm::store;

TEST(Half, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f))));
      continue;
    }
    ASSERT_EQ(float_to_half(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);           // ties to even: rounds up to infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and it: even is 0
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie: stays at even 1.0
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie: up to even
}

// Every float rounds to the nearest half (ties to even), checked against its two neighbours.
TEST(Half, NearestOnRandomFloats) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0x477fefffu);  // finite, below the overflow point
  for (int i = 0; i < 200000; ++i) {
    uint32_t x = bits(rng) | (i & 1 ? 0x80000000u : 0);
    float f;
    std::memcpy(&f, &x, 4);
    uint16_t h = float_to_half(f);
    double got = half_to_float(h), err = std::fabs(got - double(f));
    for (int step : {-1, 1}) {
      uint16_t n = static_cast<uint16_t>(h + step);
      if (((n ^ h) & 0x8000) || ((n & 0x7c00) == 0x7c00)) continue;  // crossed sign or into inf/NaN
      double other = std::fabs(double(half_to_float(n)) - double(f));
      ASSERT_LE(err, other) << f;
      if (err == other) {
        ASSERT_EQ(h & 1, 0) << "tie not to even for " << f;
      }
    }
  }
}

TEST(Layout, OffsetsAndDatasets) {
  StoreOptions o;
  o.layers = {2, 0};
  o.logits = o.contacts = true;
  auto L = make_layout({3, 0, 5}, o, 8);
  EXPECT_EQ(L.offset, (std::vector<int64_t>{0, 3, 3, 8}));
  EXPECT_EQ(L.contact_offset, (std::vector<int64_t>{0, 9, 9, 34}));
  ASSERT_EQ(L.datasets.size(), 6u);
  EXPECT_EQ(L.datasets[0].path, "/layers/2/per_residue");
  EXPECT_EQ(L.datasets[1].path, "/layers/2/mean");
  EXPECT_EQ(L.datasets[4].path, "/logits");
  EXPECT_EQ(L.datasets[5].rows, 34u);
  EXPECT_EQ(L.first_row(L.datasets[0], 2), 3u);
  EXPECT_EQ(L.row_count(L.datasets[5], 2), 25u);
  EXPECT_EQ(L.datasets[0].chunk_rows, 0u);  // uncompressed: contiguous
}

TEST(Layout, ChunksDependOnRowWidthOnly) {
  StoreOptions o;
  o.layers = {33};
  o.zstd_level = 3;
  o.float16 = true;
  std::vector<int32_t> lengths(100000, 300);
  auto L = make_layout(lengths, o, 1280);
  EXPECT_EQ(L.datasets[0].chunk_rows, (1u << 20) / (1280 * 2));
  EXPECT_EQ(chunk_rows_for(1 << 30, 10), 1u);
  EXPECT_EQ(chunk_rows_for(4, 10), 10u);  // never beyond the extent
}

TEST(Layout, FingerprintNamesEveryByteChangingOption) {
  StoreOptions a;
  a.layers = {6};
  a.device = "cpu";
  StoreOptions b = a;
  b.float16 = true;
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  b = a;
  b.max_residues = 500;
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  b = a;
  b.zstd_level = 1;
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), StoreOptions(a).fingerprint());
  // --precision is part of the set for cuda (bf16 and fp32 runs give different values).
  StoreOptions c = a, d = a;
  c.device = d.device = "cuda";
  c.precision = "bf16";
  d.precision = "fp32";
  EXPECT_NE(c.fingerprint(), d.fingerprint());
  EXPECT_NE(c.fingerprint().find("precision=bf16"), std::string::npos);
  // cpu has no precision: its fingerprint is unchanged by the option.
  b = a;
  b.precision = "fp16";
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  // --tensor-parallel: part of the set on cuda only (NCCL reorders the sums); cpu/reference TP
  // gives the TP=1 bytes, so a cpu store may be resumed with another N.
  b = a;
  b.tensor_parallel = 2;
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  d = c;
  d.tensor_parallel = 2;
  EXPECT_NE(c.fingerprint(), d.fingerprint());
  d.tensor_parallel = 1;
  EXPECT_EQ(c.fingerprint(), d.fingerprint());
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("esm-lock-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    store = (dir / "s.h5").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string store;
};

TEST_F(LockTest, SecondLockRefusedAndReleasedOnDestruction) {
  {
    StoreLock a(store);
    EXPECT_TRUE(std::filesystem::exists(store + ".lock"));
    EXPECT_THROW(StoreLock b(store), esm::Error);
  }
  EXPECT_FALSE(std::filesystem::exists(store + ".lock"));
  StoreLock c(store);
}

TEST_F(LockTest, StaleLockOfDeadProcessIsTakenOver) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // the pid is now free
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  std::ofstream(store + ".lock") << host << " " << child << " 0\n";
  StoreLock lock(store);
  std::ifstream in(store + ".lock");
  std::string h;
  long pid = 0;
  in >> h >> pid;
  EXPECT_EQ(pid, getpid());
}

TEST_F(LockTest, LockFromAnotherHostIsNeverGuessed) {
  std::ofstream(store + ".lock") << "some-other-host 1 0\n";
  EXPECT_THROW(StoreLock lock(store), esm::Error);
  EXPECT_TRUE(std::filesystem::exists(store + ".lock"));
}
