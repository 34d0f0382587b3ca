// The plain reference Smith-Waterman-Gotoh: local alignment, affine gaps (a gap of length L
// costs gap_open + (L-1)*gap_extend), full traceback. Everything else is checked against it:
// the SIMD score kernel must return exactly the score computed here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "align/profile.hpp"
#include "align/trace_buffer.hpp"

namespace esm::align {

struct Alignment {
  int score = 0;
  // 0-based inclusive coordinates of the first and last aligned residue (-1 when score == 0).
  int qbegin = -1, qend = -1, tbegin = -1, tend = -1;
  int alnlen = 0;  // alignment columns, gap columns included (the identity denominator;
                   // MMseqs2 prints max(qspan, tspan) in its alnlen column instead)
  int nident = 0;  // columns with identical residues
  int gap_opens = 0;
  std::string cigar;  // M/I/D runs (I: query residue against a gap), filled when asked
};

// Score only (int32 arithmetic, no overflow for any protein length).
int sw_score_reference(const QueryProfile& q, const uint8_t* target, int tlen, const Scoring& s);

// Full alignment with traceback. The end cell is the first maximum in row-major order
// (query position, then target position); ties in the traceback prefer the diagonal, then a
// gap in the query, then a gap in the target, and extending a gap over opening one (this
// reproduces MMseqs2's nident exactly for ~60% of pairs, within 0.01 identity for >99%).
// Memory: one byte per cell of qlen x tlen.
Alignment sw_align_reference(const QueryProfile& q, const uint8_t* target, int tlen,
                             const Scoring& s, bool want_cigar = false);

// The same alignment as sw_align_reference (every field but the CIGAR, which it leaves empty),
// given its exact score (the SIMD kernel's): the fill stops at the first cell reaching that
// score, which is the reference's end cell, so rows below it are never computed; `dir` is the
// caller's buffer, reused across calls instead of a fresh zeroed matrix per pair.
// Throws esm::Error if best_score is not reached (a caller bug: it was not the exact score).
Alignment sw_align_scored(const QueryProfile& q, const uint8_t* target, int tlen, const Scoring& s,
                          int best_score, TraceBuffer& dir);

// The same alignment as sw_align_reference (no CIGAR) in one scalar pass over every cell, with
// the caller's reused buffer: for pairs whose score may not fit the 16-bit SIMD lanes, where a
// separate exact score pass would only add to the cost (a titin pair: 2.3 s of 7.6).
Alignment sw_align_scalar(const QueryProfile& q, const uint8_t* target, int tlen, const Scoring& s,
                          TraceBuffer& dir);

}  // namespace esm::align
