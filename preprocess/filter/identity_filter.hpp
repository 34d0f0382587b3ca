// The >= 50% identity filter: every query (train) sequence is searched against the target
// (validation) set with MMseqs2's rules; a query is removed when any target is accepted.
//
// Pipeline per query (one thread each, queries handed out in small blocks):
//   1. length gate     targets whose length can meet the coverage rule (cov-mode 0: 0.8..1.25)
//   2. seeds           spaced reduced-alphabet k-mers from the TargetIndex; a target becomes a
//                      candidate with two seed hits on one diagonal (or, for short queries, one)
//   3. ungapped gate   best ungapped segment on that diagonal >= min_ungapped_bits (MMseqs2: 15)
//   4. identity gate   the ungapped scores of the target's distinct passing diagonals, summed,
//                      >= identity_gate x the identical residues a true hit must have (see
//                      align::required_identities); calibrated on real proteins, docs/PERFORMANCE.md
//   5. alignment       SIMD Smith-Waterman score vs the -e threshold, then the exact traceback
//                      and the identity/coverage rules (align::Aligner)
// Candidates are tried in target order and the query stops at its first accepted target, so
// "first hit" = the lowest target index among accepted candidates: independent of the number
// of threads and ranks.
#pragma once
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "align/search_params.hpp"
#include "filter/target_index.hpp"
#include "io/fasta.hpp"

namespace esm {
class Progress;
}

namespace esm::filter {

struct FilterOptions {
  std::string seed;                // seed mask; empty = default_seed(target residues)
  double min_ungapped_bits = 15;   // MMseqs2 --min-ungapped-score
  int single_hit_below = 120;      // queries shorter than this need only one seed hit
  // Half-bit ungapped score per required identical residue (0 disables the identity gate).
  // Calibrated (docs/PERFORMANCE.md): the lowest true hit among 10,000 x 2,000 real proteins
  // scored 1.67 at --min-seq-id 0.5 and 1.18 at 0.4; synthetic 45-65% homologs with random
  // substitutions and up to 3% indels lose a hit from 1.0 on. 0.4 keeps >= 1.9x margin there.
  double identity_gate = 0.4;
};

// The summed ungapped score (half bits) a target must reach before it is aligned; never below
// min_ungapped (the single-diagonal gate), which is all that is left when the gate is off.
int identity_gate_score(const align::SearchParams& p, const FilterOptions& o, int min_ungapped, int qlen,
                        int tlen);

struct FilterStats {
  uint64_t queries = 0, residues = 0, seed_hits = 0, candidates = 0 /* ungapped diagonal tests */,
           ungapped_pass = 0 /* targets past both gates */, aligned = 0 /* SIMD scores */, tracebacks = 0,
           accepted = 0;
  void add(const FilterStats& o);
};

class IdentityFilter {
 public:
  IdentityFilter(std::vector<io::FastaRecord> targets, align::SearchParams params, int threads,
                 FilterOptions options = {});
  ~IdentityFilter();

  // Returns the first accepted hit for each query that has one (in query order); with
  // all_hits, every accepted hit (query order, then target order).
  std::vector<align::Hit> search(const std::vector<io::FastaRecord>& queries, bool all_hits = false);

  void set_progress(Progress* p) { progress_ = p; }
  const FilterStats& stats() const { return stats_; }
  const TargetIndex& index() const { return *index_; }
  const std::vector<io::FastaRecord>& targets() const { return targets_; }

 private:
  struct Worker;
  std::vector<io::FastaRecord> targets_;
  align::SearchParams params_;
  int threads_;
  FilterOptions options_;
  std::unique_ptr<TargetIndex> index_;
  std::vector<std::unique_ptr<Worker>> workers_;
  FilterStats stats_;
  Progress* progress_ = nullptr;
};

}  // namespace esm::filter
