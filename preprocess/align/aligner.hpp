// The identity engine's pairwise decision, the API other stages build on (the filter, and
// clustering later):
//
//   esm::align::Aligner al(params, db_residues);   // db_residues: the target set's size, for E-values
//   al.set_query(residues);                         // builds the profiles once per query
//   esm::align::Hit hit;
//   if (al.evaluate(target_codes, tlen, hit)) ...   // MMseqs2's rules: length gate, -e, identity, coverage
//
// evaluate() runs the SIMD score first (exactly the reference score), rejects pairs whose
// score cannot meet -e, and only then runs the exact traceback (a striped SIMD fill storing H,
// walked back with the reference's tie rules; use_fast=false runs the full scalar reference
// traceback instead).
// evaluate_one_pass() decides the same but skips the score pass: one striped fill gives score,
// end cell and H matrix together. It is faster where most pairs that pass the length gate get
// a traceback anyway (clustering); evaluate() is faster where the -e gate rejects most (filter).
// An Aligner holds per-query scratch space: use one per thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "align/profile.hpp"
#include "align/scoring.hpp"
#include "align/search_params.hpp"
#include "align/sw_reference.hpp"
#include "align/sw_simd.hpp"

namespace esm::align {

class Aligner {
 public:
  Aligner(SearchParams params, uint64_t db_residues, const Scoring& scoring = blosum62(),
          SimdLevel level = best_simd_level());
  void set_query(std::string_view residues);
  void set_query_codes(std::vector<uint8_t> codes);
  const QueryProfile& query() const { return query_; }

  int score(const uint8_t* target, int tlen) const { return striped_->score(target, tlen); }
  Alignment align(const uint8_t* target, int tlen) const {
    return sw_align_reference(query_, target, tlen, *scoring_);
  }
  // The same alignment as align() (no CIGAR), given this pair's exact score(): the striped SIMD
  // fill of H and the walk back (StripedProfile::align_scored; scalar sw_align_scored where 16
  // bits do not suffice), reusing this Aligner's traceback buffer.
  Alignment align_scored(const uint8_t* target, int tlen, int score) const {
    return striped_->align_scored(target, tlen, score, dir_);
  }
  // The same alignment as align() (no CIGAR) in one striped fill (StripedProfile::align).
  Alignment align_one_pass(const uint8_t* target, int tlen) const { return striped_->align(target, tlen, dir_); }
  // Sizes (and page-faults in) the traceback matrix storage ahead of time (TraceBuffer::prefault;
  // larger pairs still grow it when they come).
  void reserve_traceback(size_t bytes) const { dir_.prefault(bytes); }
  // The most a qlen x tlen pair's traceback matrix takes (the 16-bit fill's H, rows rounded up
  // to the widest vector).
  static size_t traceback_bytes(int qlen, int tlen) { return size_t((qlen + 15) / 16 * 16) * size_t(tlen) * 2; }
  // The lowest raw score that can meet -e for this query (depends on qlen and db size).
  int min_score() const { return min_score_; }

  // Fills hit (coordinates, identity, E-value, bits; names left empty) whenever the pair got
  // as far as a traceback; returns whether it is accepted. If use_fast is false the exact
  // reference aligner alone decides (tests use this to check the fast path).
  bool evaluate(const uint8_t* target, int tlen, Hit& hit, bool use_fast = true) const;
  // The same decision and Hit as evaluate(), the score coming from the traceback fill itself.
  bool evaluate_one_pass(const uint8_t* target, int tlen, Hit& hit) const;

  const SearchParams& params() const { return params_; }
  const Statistics& statistics() const { return stats_; }
  uint64_t db_residues() const { return db_residues_; }

 private:
  SearchParams params_;
  uint64_t db_residues_;
  const Scoring* scoring_;
  SimdLevel level_;
  Statistics stats_;
  QueryProfile query_;
  std::unique_ptr<StripedProfile> striped_;
  int min_score_ = 0;
  mutable TraceBuffer dir_;  // the traceback matrix (H, or scalar directions), reused across targets
};

// Fills a Hit (1-based coordinates, E-value, bits, identity per seq_id_mode) from an alignment.
Hit make_hit(const Alignment& a, int qlen, int tlen, uint64_t db_residues, int seq_id_mode);

}  // namespace esm::align
