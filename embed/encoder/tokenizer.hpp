// The ESM-2 alphabet (fair-esm Alphabet "ESM-1b", 33 tokens) and the sequence tokenizer.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace esm::embed {

inline constexpr int kVocab = 33;
inline constexpr int32_t kCls = 0, kPad = 1, kEos = 2, kUnk = 3, kMask = 32;
inline constexpr int kDefaultMaxResidues = 1022;  // scripts/extract.py --truncation_seq_length

// Token strings in id order (vocab.txt).
const std::array<std::string_view, kVocab>& alphabet();

// Id of one residue letter (the 25 letters of io/residues.hpp, lowercase folded), -1 otherwise.
int32_t residue_token(char c);

// cls + one id per residue + eos. Residues beyond max_residues are dropped (max_residues <= 0:
// no limit) and *truncated (if given) says whether that happened. A character outside the
// residue alphabet throws esm::Error naming the character and its 1-based position.
std::vector<int32_t> tokenize(std::string_view residues, int max_residues, bool* truncated);

}  // namespace esm::embed
