// The one residue policy of esmpipe. Every stage that reads sequences goes through here so
// "what is a valid protein sequence" has exactly one answer:
//   - the 25 letters ESM-2 has tokens for: the 20 standard amino acids plus X B U Z O;
//   - lowercase is folded to uppercase (soft-masked FASTA is common);
//   - '*' (stop) is allowed only at the end of a sequence and is stripped;
//   - anything else is invalid: an error naming file, line, record and character, unless the
//     caller asked to skip such records.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace esm::io {

inline constexpr std::string_view kResidueLetters = "ACDEFGHIKLMNPQRSTVWYXBUZO";

// byte -> uppercase residue letter, or 0 when the byte is not a residue.
struct ResidueTable {
  std::array<uint8_t, 256> fold{};
  constexpr ResidueTable() {
    for (char c : kResidueLetters) {
      fold[uint8_t(c)] = uint8_t(c);
      fold[uint8_t(c - 'A' + 'a')] = uint8_t(c);
    }
  }
};
inline constexpr ResidueTable kResidues{};

inline bool is_residue(char c) { return kResidues.fold[uint8_t(c)] != 0; }

// Result of applying the policy to one sequence.
struct ResidueCheck {
  bool ok = true;
  size_t bad_index = 0;  // index of the first offending byte in the input (when !ok)
  char bad_char = 0;
};

// Applies the policy in place: folds case, strips trailing '*'. On an invalid byte returns
// !ok with the index and byte of the first offender (`seq` then partly folded).
ResidueCheck apply_residue_policy(std::string& seq);

// "'x'" for printable bytes, "byte 0x1f" otherwise: error messages must survive binary input.
std::string describe_byte(char c);

}  // namespace esm::io
