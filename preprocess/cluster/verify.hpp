// Alignment of candidate pairs with the identity engine (align::Aligner::evaluate_one_pass: one
// striped fill giving score, end cell and the reference's exact traceback, then MMseqs2's
// acceptance rules; most candidate pairs here are accepted, so a separate score gate would only
// add a pass). The center/representative is the query and the member the target, as in
// MMseqs2's clustering, so --cov-mode 1 is the
// coverage of the member.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "align/aligner.hpp"
#include "align/search_params.hpp"
#include "cluster/kmer_groups.hpp"

namespace esm {
class Progress;
}

namespace esm::cluster {

// Residues of a center (first) or member (second) by global index.
using SequenceLookup = std::function<std::string_view(uint64_t gid)>;

struct PairResult {
  bool accepted = false;
  double fident = 0;  // identity per --seq-id-mode when the pair got a traceback, else 0
};

// One aligner per thread, kept across calls: the greedy aligns in many small steps, and fresh
// aligners each step re-allocated (and page-faulted in) their traceback matrices every time.
// Each keeps its center's profile too, so a center whose pairs continue in the next call (work
// is aligned in chunks when ranks share it) is not built again: a global index names one
// sequence, whichever lookup delivers its residues.
class PairAligners {
 public:
  PairAligners(const align::SearchParams& params, uint64_t db_residues, int threads);
  // Aligns every pair on the threads. Pairs sharing a center reuse its query profile, so callers
  // should pass them sorted by center. Results are independent of the thread count.
  std::vector<PairResult> align(const std::vector<Pair>& pairs, const SequenceLookup& center,
                                const SequenceLookup& member, Progress* progress = nullptr);
  // Sizes every thread's traceback storage for `bytes` (align::Aligner::traceback_bytes of the
  // largest pair to come), touching it now (align::TraceBuffer::prefault).
  void reserve_traceback(size_t bytes);

 private:
  align::SearchParams params_;
  uint64_t db_residues_;
  std::vector<std::optional<align::Aligner>> aligners_;
  std::vector<uint64_t> loaded_;  // the center whose profile each thread's aligner holds
};

// PairAligners for one call.
std::vector<PairResult> align_pairs(const std::vector<Pair>& pairs, const SequenceLookup& center,
                                    const SequenceLookup& member, const align::SearchParams& params,
                                    uint64_t db_residues, int threads, Progress* progress = nullptr);

}  // namespace esm::cluster
