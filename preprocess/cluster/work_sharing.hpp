// The end of a balanced step, shared out while it runs (balanced_verify.hpp). However well a step
// is planned, ranks that share a machine's caches and memory do not run at the speeds planned:
// measured on 200,000 metastudent proteins, 2 ranks differed by up to ~12% from step to step, and
// the faster one waited for the slower at the end of nearly every step (0.1-0.3 s per rank over a
// run of 7 s). So the last part of each rank's share, its tail, is cut into chunks of about a
// millisecond, and copies of the tail's pairs travel to a few other ranks (tail_holders) with the
// step's moves. The owner aligns its chunks front to back; a holder with nothing left to do takes
// them from the back, without asking (asking a busy rank for part of its work, tried earlier,
// cost as much in waits for the answer and hand-overs as it saved). Each rank announces a chunk it takes (a claim) to every rank holding it, so
// a chunk is aligned twice only when two ranks take it within a message's latency; a decision
// does not depend on the rank that makes it, so that costs time, never a different result (the
// owner checks the two agree).
//
// Claims and decisions are standard (eager) sends, looked for at every chunk boundary. When a
// rank finds nothing left to take, the step ends with an all-to-all of how many messages each
// rank sent each other one, and every rank receives what is still on its way: no rank waits on
// another while there is work it could take, and no message of a step is left for the next.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "cluster/kmer_groups.hpp"

namespace esm::cluster {

// The ranks besides `rank` that hold a copy of its tail: the next min(nranks - 1, 2) ranks,
// cyclically. Two are enough to even out the noise between ranks (the plan already evens out
// everything it can see) while each pair travels to at most three ranks.
std::vector<int> tail_holders(int rank, int nranks);

// One rank's tail: the same chunks, holding the same pairs in the same order, on the owner and
// on every holder.
struct Tail {
  int owner = -1;
  std::vector<std::vector<Pair>> chunks;
};

// Aligns one chunk (or the head of the share); ok[i] for pairs[i].
using ChunkAligner = std::function<std::vector<uint8_t>(const std::vector<Pair>& pairs)>;

struct SharingStats {
  uint64_t taken = 0, taken_pairs = 0;  // chunks (and their pairs) this rank took from others
  uint64_t given = 0;                   // chunks of this rank's tail that others aligned
  uint64_t twice = 0;                   // chunks of this rank's tail aligned on two ranks
};

// Collective (every rank, once per step, empty tails included). Aligns own's chunks front to
// back, skipping those another rank took, then takes chunks of the tails in `held` (those this
// rank holds copies of) from the back while any is left. Returns the decisions for each of own's
// chunks, wherever they were made.
std::vector<std::vector<uint8_t>> share_tails(const Tail& own, const std::vector<Tail>& held,
                                              const ChunkAligner& align, SharingStats& stats);

}  // namespace esm::cluster
