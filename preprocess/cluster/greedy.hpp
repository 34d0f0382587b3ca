// Greedy set cover, longest first (MMseqs2 --cluster-mode 2/3): walk the sequences from the
// longest to the shortest (ties: input order); a sequence not yet taken becomes a
// representative and takes every untaken sequence it has an accepted edge to.
//
// Equivalently: a sequence is a representative iff none of its candidate centers is a
// representative with an accepted alignment to it; otherwise it joins the first such center in
// that order. Every candidate center precedes its members in the order (centers are the longest
// of their k-mer group), so a sequence can be decided as soon as its centers up to the first
// accepted representative are decided. That makes the greedy distributable:
//   - each rank owns its sequences and their candidate centers (pairs routed to the member);
//   - a step aligns, for every undecided sequence, the pair with its next candidate center
//     already known to be a representative (pairs whose center turned out to be a member are
//     never aligned), stopping at the first accepted one;
//   - the statuses decided in the step go to the ranks waiting for them before the next step.
// Each step decides at least the globally first undecided sequence; on 200,000 metastudent
// proteins about 40 steps suffice, for any rank count (logged). The result equals the serial
// greedy over all verified pairs for any rank count, which greedy_reference() computes and the
// tests compare.
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "cluster/kmer_groups.hpp"
#include "cluster/partition.hpp"

namespace esm::cluster {

struct GreedyStats {
  uint64_t steps = 0, aligned = 0, accepted = 0;
  double seconds_verify = 0, seconds_wait = 0;  // aligning; exchanging statuses
};

// Aligns a batch of (center, member) pairs; ok[i] for pairs[i]. greedy_assign calls it the same
// number of times on every rank (empty batches included), so it may be collective.
using BatchVerifier = std::function<std::vector<uint8_t>(const std::vector<Pair>& pairs)>;

// Collective. lens: lengths of this rank's sequences (global indexes part.first(rank) + i);
// candidates: (center, member) pairs with local members, sorted by member then center;
// center_len(gid): length of any candidate center. Returns the representative's global index
// for each local sequence (its own for a representative).
// on_decided(n): n more local sequences decided (for progress).
std::vector<uint64_t> greedy_assign(const std::vector<uint32_t>& lens, const Partition& part,
                                    const std::vector<Pair>& candidates,
                                    const std::function<uint32_t(uint64_t)>& center_len,
                                    const BatchVerifier& verify, GreedyStats& stats,
                                    const std::function<void(uint64_t)>& on_decided = {});

// The plain serial greedy over already verified edges (center -> member) of n sequences.
std::vector<uint64_t> greedy_reference(const std::vector<uint32_t>& lens, const std::vector<Pair>& accepted_edges);

}  // namespace esm::cluster
