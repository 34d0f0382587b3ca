// Linear-time clustering over MPI ranks (the pipeline of `esmpipe cluster`):
//   1. each rank keeps m k-mers per local sequence and routes them to the k-mer's owner rank;
//   2. owners group by k-mer, pick the longest sequence of each group as its center and send
//      each (center, member) candidate pair to the rank that holds the member;
//   3. those ranks fetch the centers' residues once from their owners;
//   4. the distributed greedy (greedy.hpp) decides representatives longest-first, aligning a
//      pair with the identity engine only when its center is a representative and the pair
//      passes the identity gate (identity_gate.hpp).
// Memory per rank is linear in its share of sequences (docs/ARCHITECTURE.md, Clustering).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "align/search_params.hpp"
#include "cluster/identity_gate.hpp"
#include "cluster/kmer_select.hpp"
#include "cluster/partition.hpp"

namespace esm::cluster {

struct ClusterOptions {
  align::SearchParams search{0.5, 0.8, 1e-3, 1, 0};
  KmerParams kmers;
  int threads = 1;
  // Half bits of ungapped diagonal score per required identical residue below which a pair is
  // rejected unaligned (identity_gate.hpp); 0 aligns every candidate.
  double identity_gate = kDefaultIdentityGate;
};

struct ClusterStats {
  uint64_t sequences = 0, residues = 0;  // whole job
  uint64_t kmers = 0, pairs = 0;         // this rank: k-mer tuples owned, candidate pairs held
  uint64_t aligned = 0, accepted = 0, steps = 0;  // pairs of this rank's members
  // Pairs this rank checked (balanced to it, whoever's members) and of those, the ones the
  // identity gate rejected without an alignment.
  uint64_t checked = 0, gated = 0;
  double seconds_kmers = 0, seconds_pairs = 0, seconds_fetch = 0, seconds_greedy = 0;
  double seconds_verify = 0, seconds_wait = 0;  // of seconds_greedy: aligning; exchanging statuses
  double seconds_gate = 0;                       // of seconds_verify: the identity gate on this rank
  double seconds_align = 0;                      // of seconds_verify: the alignments on this rank
};

// Collective. seqs: this rank's sequences, global indexes part.first(rank) + i. Returns the
// global index of each local sequence's representative (its own for a representative).
std::vector<uint64_t> linclust(const std::vector<std::string_view>& seqs, const Partition& part,
                               const ClusterOptions& options, ClusterStats& stats);

}  // namespace esm::cluster
