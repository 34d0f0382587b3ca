// Sequences grouped by a shared kept k-mer, and the candidate pairs each group yields.
//
// Every rank sends each kept k-mer of its sequences to the rank that owns the k-mer's hash, so
// one rank sees a whole group. Within a group the center is the longest sequence (ties: lowest
// global index, i.e. input order); every other sequence becomes a candidate member of it. A
// group of g sequences yields g-1 pairs, so the pair count stays linear in the input.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/kmer_select.hpp"
#include "cluster/partition.hpp"

namespace esm::cluster {

struct KmerTuple {
  uint64_t code;  // the k-mer
  uint64_t gid;   // global index of the sequence (in its own set's numbering)
  uint32_t len;   // sequence length (centers are the longest)
  uint32_t set;   // 0: sequences to place (members), 1: fixed representatives (assignment only)
};

// A candidate pair: `center` (query of the alignment) and `member` (its target).
struct Pair {
  uint64_t center, member;
  bool operator<(const Pair& o) const { return member != o.member ? member < o.member : center < o.center; }
  bool operator==(const Pair& o) const { return member == o.member && center == o.center; }
};

// The rank that collects the group of a k-mer.
int kmer_owner(uint64_t code, int nranks);

// Local sequences of one set: global indexes first_gid + i, or gids[i] when gids is given.
struct SequenceSet {
  std::vector<std::string_view> seqs;
  uint64_t first_gid = 0;
  uint32_t set = 0;
  std::vector<uint64_t> gids;
};

// Collective: the kept k-mers of the local sequences routed to their owners (one all-to-all for
// all sets); returns the tuples this rank owns. `threads` threads select k-mers.
std::vector<KmerTuple> route_kmers(const std::vector<SequenceSet>& sets, const KmerParams& params, int threads);

// `threads`: threads for the sorts below.
// Clustering: sorts the tuples (set 0 only) into groups and returns center -> member pairs.
std::vector<Pair> center_pairs(std::vector<KmerTuple>& tuples, int threads = 1);

// Assignment: in each group, every member (set 0) is paired with up to `max_reps` longest
// representatives (set 1) of the group (ties: lowest index). Pair.center is a representative index.
std::vector<Pair> representative_pairs(std::vector<KmerTuple>& tuples, int max_reps, int threads = 1);

// Collective: pairs sent to the rank that owns their member under `members`, then sorted and
// de-duplicated there (a pair found through several k-mers is aligned once).
std::vector<Pair> route_pairs_to_members(std::vector<Pair>& pairs, const Partition& members, int threads = 1);

}  // namespace esm::cluster
