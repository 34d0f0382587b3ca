// Constructors of the concrete backends and checks every backend applies to its input;
// callers use make_backend() in backend.hpp.
#pragma once
#include <memory>

#include "encoder/backend.hpp"

namespace esm::embed {

std::unique_ptr<Backend> make_reference_backend(std::shared_ptr<const Model> model);
// max_tokens: the CPU backend's own token budget per packed batch (memory bound).
std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model, int threads,
                                          size_t max_tokens = 8192);

// Throws esm::Error unless each sequence is cls + tokens (none of them pad/cls/eos) + eos, and
// the request can be served by this model (layer indices, logits need an LM head).
// Returns the resolved layer indices.
std::vector<int> check_forward_input(const std::vector<std::vector<int32_t>>& tokens,
                                     const OutputRequest& req, const Model& model);

}  // namespace esm::embed
