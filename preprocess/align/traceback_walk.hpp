// The walk back through Smith-Waterman direction bytes, shared by the scalar fills
// (sw_reference.cpp: row-major bytes) and the striped SIMD fill (sw_simd_trace.cpp: striped
// bytes). Both fills store the same bits per cell; only where a cell's byte lives differs, so the
// walk takes an accessor dir(i, j) -> byte and is written once.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "align/profile.hpp"
#include "align/sw_reference.hpp"

namespace esm::align::detail {

// One byte per cell (query position i, target position j): bits 0-1 say where H came from,
// kEExt / kFExt say whether E / F at this cell extended a gap (rather than opened one).
enum : uint8_t { kStop = 0, kDiag = 1, kFromE = 2, kFromF = 3, kEExt = 4, kFExt = 8 };

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
    const uint8_t c = dir(i, j);
    if (state == 0) {
      const uint8_t src = c & 3;
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
      state = (c & kEExt) ? 1 : 0;
      --j;
    } else {  // query residue i against a gap in the target
      ops.push_back('I');
      state = (c & kFExt) ? 2 : 0;
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
