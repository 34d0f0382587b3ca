// CUDA tensor parallelism over NCCL: mpirun -n 2 on a node with 2 GPUs, TP=2 against TP=1 on
// the golden model (fp32: within 1e-5; bf16: cosine >= 0.9999). Exits 77 (CTest: skipped) when
// fewer than 2 GPUs are visible to the ranks.
#include <cstdio>

#include "core/mpi_env.hpp"
#include "cuda/cuda_backend.hpp"
#include "gpu_test_util.hpp"

using namespace esm;
using namespace esm::embed;
using namespace esm::embed::test;

namespace {

std::vector<SequenceOutput> run(std::shared_ptr<const Model> model, CudaPrecision p, int tp,
                                const std::vector<std::vector<int32_t>>& tokens, const OutputRequest& req) {
  CudaOptions o;
  o.precision = p;
  o.tensor_parallel = tp;
  return make_cuda_backend(model, o)->forward(tokens, req);
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(&argc, &argv);
  const bool enough = visible_gpus() >= 2 && mpi::size() == 2;
  if (!mpi::all_true(enough)) {
    if (mpi::rank() == 0) std::printf("SKIP: needs 2 ranks and 2 visible GPUs\n");
    return 77;
  }
  auto model = Model::load(golden_dir());
  auto tokens = golden_tokens();
  OutputRequest req;
  req.layers = {0, 1, 2};
  req.logits = true;
  req.contacts = true;
  int failures = 0;
  try {
    auto one = run(model, CudaPrecision::FP32, 1, tokens, req);
    auto two = run(model, CudaPrecision::FP32, 2, tokens, req);
    double worst = 0;
    for (size_t s = 0; s < tokens.size(); ++s) {
      for (size_t l = 0; l < req.layers.size(); ++l) worst = std::max(worst, max_abs_diff(one[s].layers[l], two[s].layers[l]));
      worst = std::max(worst, max_abs_diff(one[s].logits, two[s].logits));
      worst = std::max(worst, max_abs_diff(one[s].contacts, two[s].contacts));
    }
    std::printf("rank %d: fp32 TP=2 vs TP=1 max abs diff %.3g\n", mpi::rank(), worst);
    failures += worst > 1e-5;

    OutputRequest last;
    last.layers = {-1};
    auto b1 = run(model, CudaPrecision::BF16, 1, tokens, last);
    auto b2 = run(model, CudaPrecision::BF16, 2, tokens, last);
    double cos = 1.0;
    for (size_t s = 0; s < tokens.size(); ++s)
      cos = std::min(cos, min_row_cosine(b2[s].layers[0], b1[s].layers[0], model->config().hidden));
    std::printf("rank %d: bf16 TP=2 vs TP=1 min cosine %.6f\n", mpi::rank(), cos);
    failures += cos < 0.9999;
  } catch (const Error& e) {
    std::printf("rank %d: %s\n", mpi::rank(), e.what());
    failures++;
  }
  return mpi::all_true(failures == 0) ? 0 : 1;
}
