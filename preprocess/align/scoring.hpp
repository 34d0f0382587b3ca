// Residue alphabet, BLOSUM62, gap costs, MMseqs2's composition-bias correction and the
// Karlin-Altschul statistics (bit score, E-value) the identity engine uses.
//
// Facts carried over from public sources (values, not code):
// - BLOSUM62 in half-bit units; it equals round(2*log2(q_ij/(p_i p_j))) computed from the
//   BLOSUM62 pair frequencies that MMseqs2 ships as blosum62.out (checked, 0 differences).
// - Background p_i: the marginals of those pair frequencies.
// - Gapped Gumbel parameters for BLOSUM62 11/1 as MMseqs2 14 uses them (lambda, K, and the
//   finite-size-correction terms a, b, alpha, beta, sigma, tau of Sheetlin-Park-Spouge's ALP).
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace esm::align {

// 20 standard amino acids in BLOSUM order, then X (also used for B, Z, U, O and anything else).
inline constexpr int kAlphabet = 21;
inline constexpr uint8_t kX = 20;
inline constexpr char kLetters[] = "ARNDCQEGHILKMFPSTWYVX";

// Residue letters (upper or lower case) to codes 0..20.
std::vector<uint8_t> encode(std::string_view residues);
uint8_t encode_letter(char c);
// encode() into a caller's buffer (reused across calls: no allocation per sequence).
void encode_into(std::string_view residues, std::vector<uint8_t>& out);

struct Scoring {
  std::array<std::array<int8_t, kAlphabet>, kAlphabet> matrix;  // half-bit units
  // A gap of length L costs gap_open + (L-1) * gap_extend: MMseqs2's convention, confirmed
  // against `mmseqs easy-search` bit scores (docs/ARCHITECTURE.md, "Identity engine").
  int gap_open = 11;
  int gap_extend = 1;
  bool composition_bias = true;  // MMseqs2 --comp-bias-corr 1
};

const Scoring& blosum62();
const std::array<double, 20>& background();  // BLOSUM62 background frequencies

// MMseqs2's local composition-bias correction for query position i (score units, not rounded):
//   -mean_{j in window, j != i} S(q_i, q_j) + sum_a p_a S(q_i, a)
// over the window [i-20, i+20) clipped to the sequence (the divisor counts position i).
std::vector<float> composition_bias_reference(const std::vector<uint8_t>& query, const Scoring& s);
// The same, rounded half away from zero as the profile adds it to every score of the row (MMseqs2
// rounds so): what profile builds use; equal to rounding the reference (tests compare).
std::vector<int> composition_bias_rounded(const std::vector<uint8_t>& query, const Scoring& s);

// Karlin-Altschul statistics for BLOSUM62 11/1 with ALP's finite-size correction.
struct Statistics {
  double bit_score(int raw) const;
  // E-value of a raw score for a query of length qlen against a database of db_residues.
  double evalue(int raw, int qlen, uint64_t db_residues) const;
  // The smallest raw score whose E-value is <= evalue (scores below it cannot pass -e).
  int min_score(double evalue, int qlen, uint64_t db_residues) const;
};

}  // namespace esm::align
