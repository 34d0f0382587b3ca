// Clustering's identity gate: candidate pairs that are rejected without an alignment.
//
// Half of the candidate pairs that share a k-mer fail the rules (measured on 200,000
// metastudent proteins: 127,382 of 258,913 aligned pairs, 59% of the alignment cells), most
// of them related proteins at 33-49% identity or pairs below the E-value. The gate sums the
// best ungapped segments (BLOSUM62, no composition bias) on the 3 diagonals where center and
// member share the most exact 3-mers (align::SharedDiagonals) and rejects the pair when the sum
// is below `gate` half bits per identical residue the rules require
// (align::required_identities). Like MMseqs2 linclust's ungapped prefilter this is a
// heuristic, but one that can only reject: every accepted pair is still decided by the exact
// aligner, so the gate never creates a member that fails the rules; a wrongly gated pair only
// sends its member to its next candidate (or makes it a representative). Calibration, cells
// saved and pairs lost per gate value: docs/PERFORMANCE.md, Clustering.
//
// It runs on the member's rank before the alignments are balanced over the ranks (it costs
// O(length) per pair and needs no query profile), so only pairs that will really be aligned
// are weighed and moved. Pairs under kGateMinCells cells are always aligned, and the gate is
// off below --min-seq-id align::kIdentityGateMinSeqId or with gate <= 0.
#pragma once
#include <cstdint>
#include <vector>

#include "align/search_params.hpp"
#include "cluster/kmer_groups.hpp"
#include "cluster/verify.hpp"

namespace esm::cluster {

inline constexpr double kDefaultIdentityGate = 3.0;
inline constexpr int64_t kGateMinCells = 4096;  // smaller alignments cost about what the gate does

bool identity_gate_active(const align::SearchParams& params, double gate);

// pass[i] for pairs[i] (any order; results do not depend on order or thread count).
std::vector<uint8_t> identity_gate(const std::vector<Pair>& pairs, const SequenceLookup& residues,
                                   const align::SearchParams& params, double gate, int threads);

}  // namespace esm::cluster
