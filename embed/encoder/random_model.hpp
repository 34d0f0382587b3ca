// Random-weight ESM-2 checkpoints in the HF layout, for tests and benchmarks of model shapes
// whose real weights we do not ship. The outputs are meaningless; the shapes are real.
#pragma once
#include <cstdint>
#include <string>

#include "encoder/model.hpp"

namespace esm::embed {

// Writes <dir>/config.json and <dir>/model.safetensors (tensors in `dtype`: F32, F16 or BF16)
// with the full EsmForMaskedLM key set. Deterministic in `seed`.
void write_random_model(const std::string& dir, const ModelConfig& config, uint64_t seed,
                        const std::string& dtype = "F32");

}  // namespace esm::embed
