#include "encoder/tokenizer.hpp"

#include "core/error.hpp"
#include "io/residues.hpp"

namespace esm::embed {

const std::array<std::string_view, kVocab>& alphabet() {
  static const std::array<std::string_view, kVocab> toks = {
      "<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R",
      "T",     "I",     "D",     "P",     "K", "Q", "N", "F", "Y", "M", "H",
      "W",     "C",     "X",     "B",     "U", "Z", "O", ".", "-", "<null_1>", "<mask>"};
  return toks;
}

namespace {
// byte -> token id through the one residue policy (io/residues.hpp: 25 letters, case folded);
// '.' and '-' are tokens too, but not residues.
struct ResidueTable {
  int32_t id[256];
  ResidueTable() {
    for (int b = 0; b < 256; ++b) {
      id[b] = -1;
      if (uint8_t up = io::kResidues.fold[size_t(b)])
        for (int t = 4; t <= 28; ++t)
          if (alphabet()[size_t(t)][0] == char(up)) id[b] = t;
    }
  }
};
}  // namespace

int32_t residue_token(char c) {
  static const ResidueTable table;
  return table.id[static_cast<unsigned char>(c)];
}

std::vector<int32_t> tokenize(std::string_view residues, int max_residues, bool* truncated) {
  size_t n = residues.size();
  bool cut = max_residues > 0 && n > size_t(max_residues);
  if (cut) n = size_t(max_residues);
  if (truncated) *truncated = cut;
  std::vector<int32_t> ids;
  ids.reserve(n + 2);
  ids.push_back(kCls);
  // Every character is checked, also those past the truncation point: bad input is bad input.
  for (size_t i = 0; i < residues.size(); ++i) {
    int32_t t = residue_token(residues[i]);
    if (t < 0) {
      unsigned char c = static_cast<unsigned char>(residues[i]);
      if (c >= 0x21 && c < 0x7f) fail("residue ", i + 1, ": '", residues[i], "' is not an ESM-2 residue letter");
      fail("residue ", i + 1, ": byte 0x", std::hex, int(c), " is not an ESM-2 residue letter");
    }
    if (i < n) ids.push_back(t);
  }
  ids.push_back(kEos);
  return ids;
}

}  // namespace esm::embed
