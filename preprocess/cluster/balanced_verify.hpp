// Spreads the checks of one greedy step (identity gate and alignment) evenly over the ranks.
// The pairs a rank must decide are those of its own members, and which of them are ready in a
// given step depends on the data: measured on 200,000 metastudent proteins, 2 ranks had up to
// 1.7x different work in a step and each waited for the other about 2-3 s of 14 s. Every rank
// passes its own batch; pairs are weighed by a fitted time model (balanced_verify.cpp: per cell,
// per pair, and the center's profile build once) and go to the rank whose range of center
// indexes they fall in, the ranges cut so that the ranks are expected to finish the step
// together (shares follow each rank's measured speed, RankSpeeds). So each center's profile is
// built on one rank only. What the model cannot foresee (ranks slowing each other down) is
// evened out while the step runs: the last part of each share is taken by whichever rank is
// free first (work_sharing.hpp). Moved pairs travel with their residues, and the decisions come
// back to the pair's rank. A pair's decision does not depend on which rank makes it, so outputs
// do not change.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "cluster/kmer_groups.hpp"
#include "cluster/verify.hpp"

namespace esm::cluster {

// Aligns pairs on this rank; `residues` resolves every center and member in them.
using LocalVerifier = std::function<std::vector<uint8_t>(const std::vector<Pair>& pairs, const SequenceLookup& residues)>;

// How fast each rank has aligned so far (modelled picoseconds and nanoseconds of its verify calls, summed
// over the steps). Ranks are not equally fast per unit of cost (measured on 2 ranks of one VM:
// one 5% slower over a whole run), so once enough work is timed each rank's share of a step
// follows its measured speed instead of being equal. Keep one per run, across the steps.
struct RankSpeeds {
  // This rank's modelled cost and time aligning, all of it (cost_total, nanoseconds) and with
  // each earlier step's weight halved per step (recent_*): a step the model misjudged (a giant
  // pair on one rank took 1.9x its modelled time on 400,000 proteins) then skews the shares of a
  // few steps, not of every step after it, as a running total did (the other rank then waited
  // in nearly every later step, 2.6 s in all).
  uint64_t cost_total = 0, nanoseconds = 0;
  uint64_t recent_cost = 0, recent_ns = 0;
  // For the log: time planning the steps and moving pairs (plan_ns), idle at the steps' ends
  // (idle_ns: nothing left to take, waiting for the last rank) and taking decisions back
  // (finish_ns); chunks of tails taken from others, given to them, aligned twice
  // (work_sharing.hpp).
  uint64_t plan_ns = 0, idle_ns = 0, finish_ns = 0;
  uint64_t taken = 0, given = 0, twice = 0;
  uint64_t steps = 0;  // steps balanced so far, for the debug line of a step with a long wait
  void add(uint64_t cost, uint64_t ns) {
    cost_total += cost, nanoseconds += ns;
    recent_cost = recent_cost / 2 + cost, recent_ns = recent_ns / 2 + ns;
  }
};

// Collective (all ranks, any batch sizes, empty included). residues: this rank's sequences and
// the centers of its batch. Returns ok[i] for batch[i]. One rank: verify(batch, residues).
// speeds: optional, see RankSpeeds. Where pairs are aligned never changes the decisions.
std::vector<uint8_t> verify_balanced(const std::vector<Pair>& batch, const SequenceLookup& residues,
                                     const LocalVerifier& verify, RankSpeeds* speeds = nullptr);

}  // namespace esm::cluster
