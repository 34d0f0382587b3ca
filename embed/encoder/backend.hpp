// Encoder backends: the plain reference forward and the fast CPU one (CUDA lives in embed/cuda).
// All backends compute /work/shared/docs/esm2-forward.md section 2 for each sequence of a batch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encoder/model.hpp"

namespace esm::embed {

struct OutputRequest {
  // Representation indices 0..L (0 = embedding output, L = after the final LayerNorm);
  // a negative i means (i + L + 1), so -1 is the last layer (scripts/extract.py convention).
  std::vector<int> layers;
  bool logits = false, contacts = false;
};

struct SequenceOutput {                     // for one sequence of n residues (cls/eos excluded)
  int n = 0;
  std::vector<std::vector<float>> layers;   // per requested layer (same order): [n * hidden]
  std::vector<std::vector<float>> means;    // per requested layer: [hidden]
  std::vector<float> logits;                // [n * 33] if requested
  std::vector<float> contacts;              // [n * n] if requested
};

class Backend {   // "reference" (plain C++) and "cpu" (BLAS, packed batches); CUDA later
 public:
  virtual ~Backend() = default;
  // A packed batch: sequences of different lengths, no padding. Each entry is cls + ids + eos
  // (tokenize()). Results for a sequence do not depend on the other sequences of the batch
  // (bitwise). Throws esm::Error for malformed tokens or a request the model cannot serve.
  virtual std::vector<SequenceOutput> forward(const std::vector<std::vector<int32_t>>& tokens,
                                              const OutputRequest& req) = 0;
};

// device: "reference" | "cpu" ("cuda" where built). threads <= 0: all cores.
std::unique_ptr<Backend> make_backend(const std::string& device, std::shared_ptr<const Model> model,
                                      int threads);

// Groups sequence indices into batches of at most max_tokens tokens (a longer sequence gets a
// batch of its own), sorted by length (longest first, ties by index) so batches are even.
// Deterministic: depends only on the lengths and max_tokens.
std::vector<std::vector<size_t>> plan_batches(const std::vector<size_t>& token_counts, size_t max_tokens);

// Representation indices of a request resolved against num_layers (negative -> from the end);
// throws esm::Error for an index outside [-(L+1), L].
std::vector<int> resolve_layers(const std::vector<int>& layers, int num_layers);

}  // namespace esm::embed
