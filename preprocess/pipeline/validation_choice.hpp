// The seeded validation choice (contract rule 1), separate so tests can call it directly.
#pragma once
#include <cstdint>
#include <vector>

#include "pipeline/preprocess_context.hpp"

namespace esm::prep {

// floor(val_fraction * n50), or --val-size; throws when nothing would be left to train on.
uint64_t validation_count(const PreprocessParams& p, uint64_t n50);

// Collective. This rank holds records [base, base + local); returns the k chosen global
// indices, sorted, on every rank.
std::vector<uint64_t> choose_validation(uint64_t seed, uint64_t base, uint64_t local, uint64_t k);

}  // namespace esm::prep
