// Elementwise kernels of the fast CPU backend (GELU, softmax). Each element's result depends
// only on its own row, never on where the row sits in a batch.
#pragma once
#include <cstddef>

namespace esm::embed {

// z <- 0.5 z (1 + erf(z / sqrt 2)) (exact GELU).
void gelu_inplace(float* z, size_t n);
// Numerically stable softmax of one row.
void softmax_inplace(float* row, size_t n);

}  // namespace esm::embed
