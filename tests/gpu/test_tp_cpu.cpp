// The Megatron split of embed/parallel on CPU: every rank of the world forms one tensor-parallel
// group (mpirun -n 2 -> TP=2), runs the golden model split across the group with MPI all-reduce,
// and must reproduce the unsplit reference forward (TP=1) within 1e-5 and the golden vectors
// (written by a reference implementation we did not write) within 1e-4. The CUDA backend runs
// the same split (parallel/tp_split.hpp) over NCCL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/mpi_env.hpp"
#include "encoder/backend.hpp"
#include "encoder/tokenizer.hpp"
#include "parallel/cpu_tp_backend.hpp"
#include "parallel/tp_split.hpp"
#include "golden_outputs.hpp"

namespace esm::embed::test {
namespace {

struct TpRun {
  parallel::TpGroup group;
  std::vector<SequenceOutput> tp, reference;
  OutputRequest req;
};

// Computed once: the split forward over all ranks and the reference forward on every rank.
const TpRun& run() {
  static TpRun r = [] {
    TpRun x;
    x.group = parallel::make_tp_group(mpi::comm(), mpi::size());
    x.req.layers = {0, 1, 2};
    x.req.logits = true;
    x.req.contacts = true;
    auto tokens = golden_tokens();
    x.tp = parallel::make_cpu_tp_backend(golden_model(), x.group)->forward(tokens, x.req);
    x.reference = make_backend("reference", golden_model(), 1)->forward(tokens, x.req);
    return x;
  }();
  return r;
}

TEST(TensorParallelCpu, SplitMatchesUnsplitReference) {
  const TpRun& r = run();
  ASSERT_EQ(r.tp.size(), r.reference.size());
  double worst_layer = 0, worst_mean = 0, worst_logit = 0, worst_contact = 0;
  for (size_t s = 0; s < r.tp.size(); ++s) {
    const SequenceOutput &a = r.tp[s], &b = r.reference[s];
    ASSERT_EQ(a.n, b.n);
    for (size_t l = 0; l < r.req.layers.size(); ++l) {
      worst_layer = std::max(worst_layer, max_abs_diff(a.layers[l], b.layers[l]));
      worst_mean = std::max(worst_mean, max_abs_diff(a.means[l], b.means[l]));
    }
    worst_logit = std::max(worst_logit, max_abs_diff(a.logits, b.logits));
    worst_contact = std::max(worst_contact, max_abs_diff(a.contacts, b.contacts));
  }
  if (mpi::rank() == 0)
    std::printf("TP=%d vs TP=1 reference, max abs diff: layers %.3g, means %.3g, logits %.3g, contacts %.3g\n",
                r.group.tp_size, worst_layer, worst_mean, worst_logit, worst_contact);
  EXPECT_LE(worst_layer, 1e-5);
  EXPECT_LE(worst_mean, 1e-5);
  EXPECT_LE(worst_logit, 1e-5);
  EXPECT_LE(worst_contact, 1e-5);
}

TEST(TensorParallelCpu, SplitMatchesGoldenVectors) { expect_matches_golden(run().tp); }

// Every rank of the group returns the same bytes (the all-reduce leaves no rank-local rounding).
TEST(TensorParallelCpu, RanksReturnIdenticalOutputs) {
  const TpRun& r = run();
  std::string bytes;
  for (const SequenceOutput& o : r.tp) {
    for (const auto& l : o.layers) bytes.append(reinterpret_cast<const char*>(l.data()), l.size() * 4);
    bytes.append(reinterpret_cast<const char*>(o.logits.data()), o.logits.size() * 4);
    bytes.append(reinterpret_cast<const char*>(o.contacts.data()), o.contacts.size() * 4);
  }
  std::vector<std::string> all = mpi::allgather_bytes(bytes);
  for (size_t k = 1; k < all.size(); ++k) EXPECT_TRUE(all[k] == all[0]) << "rank " << k << " differs from rank 0";
}

// The shards of all ranks put back together are the layer's matrices.
TEST(TensorParallelSplit, ShardsReassembleTheLayer) {
  const Model& m = *golden_model();
  const ModelConfig& c = m.config();
  const LayerWeights& w = m.weights().layers[0];
  const int D = c.hidden, F = c.ffn;
  for (int n : {1, 2, 4}) {
    for (int r = 0; r < n; ++r) {
      parallel::TpSplit s = parallel::make_tp_split(c, r, n);
      parallel::LayerShard sh = parallel::shard_layer(w, s);
      const int Dl = s.local_width();
      ASSERT_EQ(sh.wqkv.size(), size_t(3) * Dl * D);
      for (int i = 0; i < Dl; ++i)
        for (int j = 0; j < D; ++j) {
          const size_t full = size_t(r * Dl + i) * D + j;
          ASSERT_EQ(sh.wqkv[size_t(i) * D + j], w.wq[full]);
          ASSERT_EQ(sh.wqkv[size_t(Dl + i) * D + j], w.wk[full]);
          ASSERT_EQ(sh.wqkv[size_t(2 * Dl + i) * D + j], w.wv[full]);
          ASSERT_EQ(sh.wo[size_t(j) * Dl + i], w.wo[size_t(j) * D + r * Dl + i]);
        }
      const int Fl = s.ffn_local;
      for (int i = 0; i < Fl; ++i)
        for (int j = 0; j < D; ++j) {
          ASSERT_EQ(sh.w1[size_t(i) * D + j], w.w1[size_t(r * Fl + i) * D + j]);
          ASSERT_EQ(sh.w2[size_t(j) * Fl + i], w.w2[size_t(j) * F + r * Fl + i]);
        }
    }
  }
}

TEST(TensorParallelSplit, RejectsASizeThatDoesNotDivideTheHeads) {
  try {
    parallel::make_tp_split(golden_model()->config(), 0, 3);
    FAIL() << "TP=3 of 4 heads accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("possible sizes: 1, 2, 4"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace esm::embed::test

// MPI owns the process: initialise it, run the tests on every rank, fail if any rank failed.
int main(int argc, char** argv) {
  esm::mpi::Session session(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (esm::mpi::rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  return static_cast<int>(esm::mpi::allreduce_max(static_cast<uint64_t>(rc != 0)));
}
