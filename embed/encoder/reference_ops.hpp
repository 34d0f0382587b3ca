// The reference forward's math, one plain loop per operation: float activations, every sum in
// double. Used by reference_forward.cpp and by the CPU tensor-parallel forward (embed/parallel),
// whose row-parallel products keep the double partial sums so the all-reduce adds them before the
// single rounding to float, as the reference's one dot product does.
#pragma once
#include <cstdint>
#include <vector>

namespace esm::embed::ref {

// y[T, out] = x[T, in] Wᵀ (+ b), W stored [out, in]; accumulated and returned in double.
void linear(const float* x, const float* W, const float* b, double* y, int T, int in, int out);
// The same, rounded to float once per output.
void linear(const float* x, const float* W, const float* b, float* y, int T, int in, int out);
// LayerNorm over rows of D (biased variance, double moments).
void layernorm(const float* x, const float* w, const float* b, float* y, int T, int D, float eps);
// Exact GELU.
float gelu(float z);
// NeoX rotary of one head vector at position p (angle rounded to float, cos/sin in double).
void rotate(float* v, int hd, int p, const std::vector<float>& inv_freq);
// Softmax attention of one head over one sequence: q, k, v point at the head's first feature of
// row 0, rows ld_in apart; o likewise with rows ld_out apart; probs [T, T] (double) is filled.
void attention_head(const float* q, const float* k, const float* v, int ld_in, float* o, int ld_out, int T,
                    int hd, std::vector<double>& probs);
// acc += w * APC(A + Aᵀ) for one n x n attention channel.
void add_contact_channel(const std::vector<double>& A, int n, double w, std::vector<double>& acc);
// The residue block of one head's [T, T] probabilities: rows and columns of cls and eos dropped,
// n = T - 2.
std::vector<double> residue_attention(const std::vector<double>& probs, int T);
// Contact probabilities sigmoid(acc + bias), one per residue pair.
std::vector<float> contact_probabilities(const std::vector<double>& acc, double bias);

// Shared by every CPU backend (reference, fast, tensor-parallel) so they agree bitwise:
// token embedding rows x[T, D] of one sequence, with ESM-2's token-dropout rescaling
// x * (1 - 0.15 * 0.8) / (1 - masked / T), which fair-esm applies at inference too.
void embed_tokens(const int32_t* tok, int T, const float* table, int D, bool token_dropout, float* x);
// One representation of one sequence: its n residue rows [n, D] copied to rows and their mean
// (summed in double) to mean; a zero vector for n == 0.
void residue_rows_and_mean(const float* residue_rows, int n, int D, std::vector<float>& rows,
                           std::vector<float>& mean);

}  // namespace esm::embed::ref
