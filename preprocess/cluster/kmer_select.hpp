// Which k-mers stand for a sequence in linear-time clustering.
//
// Linclust's idea: two sequences that are similar share many k-mers, so if every sequence
// keeps the m k-mers with the lowest hash values (the same hash for every sequence), similar
// sequences tend to keep some of the same ones. Sequences are then grouped by kept k-mer, and
// only pairs inside a group are ever aligned: the work is linear in the number of sequences.
//
// K-mers are spelled in a 12-letter reduced alphabet (groups of residues that BLOSUM62 scores
// as mutually similar) so that conservative substitutions do not break a shared k-mer.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace esm::cluster {

// Residue -> reduced letter 0..11, or kNoLetter for X and anything unknown (breaks k-mers).
inline constexpr uint8_t kNoLetter = 0xff;
inline constexpr int kReducedAlphabetSize = 12;
uint8_t reduced_letter(char residue);

struct KmerParams {
  int k = 10;         // k-mer length in reduced letters (12^k must fit in 64 bits: k <= 17)
  int per_seq = 25;   // k-mers kept per sequence (--kmers-per-seq)
};

// `-k auto`: the length used when the user gives none. Shorter k finds more distant pairs at
// the price of larger groups; measured on mini-uniref (docs/PERFORMANCE.md, Clustering).
int auto_kmer_length(double min_seq_id);

struct SelectedKmer {
  uint64_t code;  // the k-mer in base-12 digits
  uint32_t pos;   // 0-based start of its first occurrence in the sequence
};

// The hash that orders k-mers; fixed forever (outputs depend on it).
uint64_t kmer_hash(uint64_t code);

// Appends to `out` the (up to) `per_seq` distinct k-mers of `seq` with the lowest hash values,
// ordered by hash (ties: lower code). A sequence with fewer distinct k-mers keeps all of them.
void select_kmers(std::string_view seq, const KmerParams& params, std::vector<SelectedKmer>& out);

// Plain reference: every k-mer, sort, unique, take the first per_seq. Tests compare both.
std::vector<SelectedKmer> select_kmers_reference(std::string_view seq, const KmerParams& params);

}  // namespace esm::cluster
