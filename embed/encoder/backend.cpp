#include "encoder/backend.hpp"

#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "encoder/backends.hpp"
#include "encoder/tokenizer.hpp"

namespace esm::embed {

std::unique_ptr<Backend> make_backend(const std::string& device, std::shared_ptr<const Model> model,
                                      int threads) {
  if (!model) fail("make_backend: no model");
  if (device == "reference") return make_reference_backend(std::move(model));
  if (device == "cpu") return make_cpu_backend(std::move(model), threads);
  // The CUDA backend takes GPU options (precision, device, tensor parallelism) and lives in a
  // library that links this one; callers create it with make_cuda_backend() (embed/cuda).
  if (device == "cuda")
    fail("--device cuda: esm_encoder's make_backend() makes only 'reference' and 'cpu'; the CUDA backend is "
         "created with make_cuda_backend() (embed/cuda/cuda_backend.hpp)");
  fail("unknown --device '", device, "' (reference, cpu or cuda)");
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& token_counts, size_t max_tokens) {
  std::vector<size_t> order(token_counts.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return token_counts[a] > token_counts[b]; });
  std::vector<std::vector<size_t>> batches;
  size_t used = 0;
  for (size_t i : order) {
    if (batches.empty() || used + token_counts[i] > max_tokens) {
      batches.emplace_back();
      used = 0;
    }
    batches.back().push_back(i);
    used += token_counts[i];
  }
  return batches;
}

std::vector<int> resolve_layers(const std::vector<int>& layers, int num_layers) {
  std::vector<int> out;
  for (int l : layers) {
    if (l < -(num_layers + 1) || l > num_layers)
      fail("layer ", l, " does not exist: the model has representations 0..", num_layers,
           " (or -1..-", num_layers + 1, " from the end)");
    out.push_back(l < 0 ? l + num_layers + 1 : l);
  }
  return out;
}

std::vector<int> check_forward_input(const std::vector<std::vector<int32_t>>& tokens,
                                     const OutputRequest& req, const Model& model) {
  if (req.logits && !model.weights().has_lm_head)
    fail(model.dir(), ": logits requested but the checkpoint has no lm_head (an EsmModel save)");
  for (size_t s = 0; s < tokens.size(); ++s) {
    const auto& t = tokens[s];
    if (t.size() < 2 || t.front() != kCls || t.back() != kEos)
      fail("sequence ", s, " of the batch: tokens must be <cls> residues <eos>");
    for (size_t i = 1; i + 1 < t.size(); ++i)
      if (t[i] < 0 || t[i] >= kVocab || t[i] == kCls || t[i] == kPad || t[i] == kEos)
        fail("sequence ", s, " of the batch: token ", i, " is ", t[i], ", not a residue, <unk> or <mask> id");
  }
  return resolve_layers(req.layers, model.config().num_layers);
}

}  // namespace esm::embed
