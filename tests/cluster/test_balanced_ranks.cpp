// The step balancer and the sharing of tails (cluster/balanced_verify.hpp, work_sharing.hpp)
// under mpirun: every decision comes back to the rank that asked, whichever rank made it, and a
// slow rank's tail is taken by the others. The verifier here is a stand-in whose decision is a
// hash of the pair and whose speed differs by rank on purpose; it checks that the residues of
// every pair it is given arrived intact.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>

#include "cluster/balanced_verify.hpp"
#include "cluster/work_sharing.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {
namespace {

uint8_t expected(const Pair& p) { return uint8_t(((p.center * 0x9E3779B97F4A7C15ull) ^ (p.member * 0xC2B2AE3D27D4EB4Full)) >> 63); }

// The residues of sequence gid: a length and letters that depend on gid alone.
std::string residues_of(uint64_t gid) { return std::string(40 + gid % 400, char('A' + gid % 20)); }

// Stand-in alignment: checks the residues, sleeps `us_per_pair`, decides by the hash.
LocalVerifier slow_verifier(int us_per_pair) {
  return [us_per_pair](const std::vector<Pair>& pairs, const SequenceLookup& residues) {
    std::vector<uint8_t> ok;
    for (const Pair& p : pairs) {
      if (residues(p.center) != residues_of(p.center) || residues(p.member) != residues_of(p.member))
        ADD_FAILURE() << "residues of pair " << p.center << "-" << p.member << " arrived wrong";
      ok.push_back(expected(p));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(us_per_pair * int(pairs.size())));
    return ok;
  };
}

TEST(TailHolders, NextRanksCyclicallyAtMostTwo) {
  EXPECT_TRUE(tail_holders(0, 1).empty());
  EXPECT_EQ(tail_holders(1, 2), (std::vector<int>{0}));
  EXPECT_EQ(tail_holders(2, 3), (std::vector<int>{0, 1}));
  EXPECT_EQ(tail_holders(3, 5), (std::vector<int>{4, 0}));
}

// Several steps; rank 0 aligns 4x slower than the others, so with equal shares they finish
// first and take chunks of its tail. One rank has nothing of its own in some steps.
TEST(BalancedVerify, EveryDecisionReturnsAndTheSlowRanksTailIsShared) {
  const int me = mpi::rank(), nranks = mpi::size();
  std::mt19937_64 rng(1234 + uint64_t(me));
  std::unordered_map<uint64_t, std::string> store;
  const SequenceLookup lookup = [&](uint64_t gid) -> std::string_view {
    auto it = store.find(gid);
    if (it == store.end()) it = store.emplace(gid, residues_of(gid)).first;
    return it->second;
  };
  RankSpeeds speeds;
  const LocalVerifier verify = slow_verifier(me == 0 ? 200 : 50);
  for (int step = 0; step < 6; ++step) {
    std::vector<Pair> batch;
    const size_t n = (me == nranks - 1 && step % 2 == 1) ? 0 : 300 + rng() % 200;
    for (size_t i = 0; i < n; ++i)  // members are this rank's; centers anywhere
      batch.push_back({rng() % 5000, uint64_t(me) * 1'000'000 + uint64_t(step) * 10'000 + i});
    const std::vector<uint8_t> ok = verify_balanced(batch, lookup, verify, &speeds);
    ASSERT_EQ(ok.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) ASSERT_EQ(ok[i], expected(batch[i])) << "step " << step << " pair " << i;
  }
  // An all-empty step still completes on every rank.
  EXPECT_TRUE(verify_balanced({}, lookup, verify, &speeds).empty());
  if (nranks > 1) {
    const uint64_t taken = mpi::allreduce_sum(speeds.taken);
    const uint64_t given_by_slow = mpi::allreduce_sum(me == 0 ? speeds.given : 0);
    EXPECT_GT(taken, 0u);
    EXPECT_GT(given_by_slow, 0u);
    if (me == 0) std::printf("chunks taken from others: %llu (from the slow rank: %llu)\n", (unsigned long long)taken, (unsigned long long)given_by_slow);
  }
}

}  // namespace
}  // namespace esm::cluster

// MPI owns the process: initialise it, run the tests on every rank, fail if any rank failed.
int main(int argc, char** argv) {
  esm::mpi::Session session(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (esm::mpi::rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int rc = RUN_ALL_TESTS();
  return static_cast<int>(esm::mpi::allreduce_max(static_cast<uint64_t>(rc != 0)));
}
