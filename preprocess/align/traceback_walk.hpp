// The walk back through a filled Smith-Waterman matrix, shared by the scalar fills
// (sw_reference.cpp: a direction byte per cell) and the striped SIMD fill (sw_simd_trace.cpp:
// the H values per cell, the directions worked out on the walk from them). Both give the same
// three answers per cell; the walk takes an accessor with src(i, j), e_extends(i, j) and
// f_extends(i, j) and is written once.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "align/profile.hpp"
#include "align/sw_reference.hpp"

namespace esm::align::detail {

// One byte per cell (query position i, target position j): bits 0-1 say where H came from,
// kEExt / kFExt say whether E / F at this cell extended a gap (rather than opened one). Ties:
// H's source diag > E > F (kStop where H is 0), E/F extend rather than open.
enum : uint8_t { kStop = 0, kDiag = 1, kFromE = 2, kFromF = 3, kEExt = 4, kFExt = 8 };

// The accessor over a matrix of such bytes; `Byte` gives cell (i, j)'s byte.
template <class Byte>
struct DirBytes {
  Byte byte;
  uint8_t src(int i, int j) const { return byte(i, j) & 3; }
  bool e_extends(int i, int j) const { return byte(i, j) & kEExt; }
  bool f_extends(int i, int j) const { return byte(i, j) & kFExt; }
};

// Walks back from the end cell (bi, bj) and fills the coordinates, counts and (if asked) the
// CIGAR of `out` (score is the caller's).
template <class Dir>
void walk_back(const QueryProfile& q, const uint8_t* t, const Dir& dir, int bi, int bj, bool want_cigar,
               Alignment& out) {
  // State 0: in H, 1: in E (query gap), 2: in F (target gap).
  int i = bi, j = bj, state = 0;
  std::string ops;  // reversed
  int qb = bi, tb = bj;
  while (i >= 0 && j >= 0) {
    if (state == 0) {
      const uint8_t src = dir.src(i, j);
      if (src == kStop) break;
      if (src == kDiag) {
        ops.push_back('M');
        out.nident += q.codes[i] == t[j];
        qb = i, tb = j;
        --i, --j;
        continue;
      }
      state = src == kFromE ? 1 : 2;
      ++out.gap_opens;
      continue;
    }
    if (state == 1) {  // target residue j against a gap in the query
      ops.push_back('D');
      state = dir.e_extends(i, j) ? 1 : 0;
      --j;
    } else {  // query residue i against a gap in the target
      ops.push_back('I');
      state = dir.f_extends(i, j) ? 2 : 0;
      --i;
    }
  }
  out.qbegin = qb, out.tbegin = tb, out.qend = bi, out.tend = bj;
  out.alnlen = int(ops.size());
  if (want_cigar) {
    std::reverse(ops.begin(), ops.end());
    for (size_t k = 0; k < ops.size();) {
      size_t r = k;
      while (r < ops.size() && ops[r] == ops[k]) ++r;
      out.cigar += std::to_string(r - k);
      out.cigar += ops[k];
      k = r;
    }
  }
}

}  // namespace esm::align::detail
