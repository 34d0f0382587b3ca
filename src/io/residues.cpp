#include "io/residues.hpp"

#include <cstdio>

namespace esm::io {

ResidueCheck apply_residue_policy(std::string& seq) {
  size_t n = seq.size();
  while (n > 0 && seq[n - 1] == '*') --n;  // stop codon(s) at the very end only
  char* p = seq.data();
  // One table lookup per byte, no branch in the loop: valid bytes become their uppercase
  // letter, invalid ones stay as they are so the error can name them.
  bool bad = false;
  for (size_t i = 0; i < n; ++i) {
    uint8_t v = kResidues.fold[uint8_t(p[i])];
    bad |= (v == 0);
    p[i] = v ? char(v) : p[i];
  }
  if (bad) {
    for (size_t i = 0; i < n; ++i)
      if (!is_residue(p[i])) return ResidueCheck{false, i, p[i]};
  }
  seq.resize(n);
  return {};
}

std::string describe_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  char buf[32];
  if (u >= 0x21 && u < 0x7f)
    std::snprintf(buf, sizeof buf, "'%c'", c);
  else if (c == ' ')
    std::snprintf(buf, sizeof buf, "' ' (space)");
  else
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

}  // namespace esm::io
