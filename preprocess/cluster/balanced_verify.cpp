#include "cluster/balanced_verify.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>

#include "align/aligner.hpp"
#include "cluster/pair_message.hpp"
#include "cluster/work_sharing.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {

// A pair's expected alignment time in picoseconds, fitted on every pair of a 1-thread run on
// 200,000 metastudent proteins (per-pair timings against the pair's sizes; sums over runs of
// 500 consecutive pairs, the granularity ranks receive, within ~4% on average; rank-to-rank
// differences in one step are of that order too, from the ranks sharing the caches and memory):
// the fill and walk per cell, more per cell once the matrix outgrows the caches (the fill
// streams it to memory, sw_simd_trace.cpp; 240 ps before the storage was faulted in up front,
// cluster/linclust.cpp), a fixed cost per pair (encoding, set-up, the hit), and the center's
// profile per residue, charged to the first of its pairs.
constexpr uint64_t kCellPs = 140, kLargeCellPs = 170, kPairPs = 4'000'000, kProfileResiduePs = 43'000;
constexpr uint64_t kLargeCells = uint64_t(4) << 20;  // 2-byte cells: 8 MiB

// Pairs this long may not fit the 16-bit SIMD lanes (align/sw_simd.hpp, may_saturate: a bound
// of ~5.5 per residue against 65,535) and take the 32-bit fill (sw_wide_trace.cpp, half a byte
// per cell): 0.75-0.85 ns per cell with AVX2 alone on the machine, in storage already faulted
// in, more with the other rank busy (it is bound by memory more than the 16-bit fill).
// Unweighed, such a pair held up a step. 1.1 ns was the figure in runs until the 16-bit fill got
// 12-15% faster (sw_simd_trace.cpp) and this one did not: the titin pair's rank on 400,000
// proteins then took 3.3 s where the other was planned to finish in 2.3-2.8, and the other rank
// waited 0.4-0.6 s at that step's end (the per-step debug line below), then its measured speed
// skewed the next steps. At 1.7 ns (in the cost model's units) idle at step ends went 0.43-0.70
// -> 0.03-0.11 s per rank and run, 2 x 1 median 13.66 -> 13.22 s (4 alternating pairs).
constexpr uint64_t kWideCellPs = 1700;
constexpr size_t kWideLength = 11'500;
// A matrix beyond align::TraceBuffer::kKeepBytes gets fresh storage, faulted in as it is
// written: 0.39 ns per byte measured (0.41 ms per MB), more than the 16-bit fill of its cells
// (2 bytes each). A titin pair: 0.6 GB, ~0.25 s of its 1.1-1.3 alone.
constexpr uint64_t kFaultPsPerByte = 390;

uint64_t pair_cost(size_t center_len, size_t member_len) {
  const uint64_t cells = uint64_t(center_len) * member_len;
  const bool wide = std::min(center_len, member_len) >= kWideLength;
  const uint64_t bytes = wide ? cells / 2 : align::Aligner::traceback_bytes(int(center_len), int(member_len));
  const uint64_t faults = bytes > align::TraceBuffer::kKeepBytes ? bytes * kFaultPsPerByte : 0;
  if (wide) return cells * kWideCellPs + faults + kPairPs;
  return cells * (cells > kLargeCells ? kLargeCellPs : kCellPs) + faults + kPairPs;
}

uint64_t nanoseconds_since(std::chrono::steady_clock::time_point t0) {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

// Modelled cost of aligning `pairs` in one call (sorted by center: a profile per center).
uint64_t chunk_cost(const std::vector<Pair>& pairs, const SequenceLookup& residues) {
  uint64_t cost = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const size_t qlen = residues(pairs[i].center).size();
    cost += pair_cost(qlen, residues(pairs[i].member).size());
    if (i == 0 || pairs[i - 1].center != pairs[i].center) cost += kProfileResiduePs * qlen;
  }
  return cost;
}

bool by_center(const Pair& a, const Pair& b) { return a.center != b.center ? a.center < b.center : a.member < b.member; }

}  // namespace

std::vector<uint8_t> verify_balanced(const std::vector<Pair>& batch, const SequenceLookup& residues,
                                     const LocalVerifier& verify, RankSpeeds* speeds) {
  const int nranks = mpi::size(), me = mpi::rank();
  const auto plan_start = std::chrono::steady_clock::now();
  if (nranks == 1) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> ok = verify(batch, residues);
    if (speeds) speeds->add(0, nanoseconds_since(start));
    return ok;
  }

  // Pairs go to ranks by their center: the centers' index space is cut into one range per rank
  // of equal cost (or of cost proportional to each rank's measured speed), on a histogram of
  // kBuckets ranges summed over the ranks. A center's pairs then meet on one rank, which builds
  // its profile once, as a single rank would (cutting pairs in each rank's own order instead
  // built a center's profile on every rank holding one of its members: +6.5% alignment time on
  // 2 ranks, more with more ranks).
  constexpr uint64_t kBuckets = 1 << 14;
  uint64_t max_center = 0;
  for (const Pair& p : batch) max_center = std::max(max_center, p.center);
  const uint64_t span = mpi::allreduce_max(max_center) + 1;
  auto bucket_of = [&](uint64_t center) { return size_t((unsigned __int128)center * kBuckets / span); };
  std::vector<size_t> order(batch.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return by_center(batch[a], batch[b]); });
  std::vector<uint64_t> hist(kBuckets, 0);
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    const size_t qlen = residues(batch[i].center).size();
    uint64_t cost = pair_cost(qlen, residues(batch[i].member).size());
    if (k == 0 || batch[order[k - 1]].center != batch[i].center) cost += kProfileResiduePs * qlen;
    hist[bucket_of(batch[i].center)] += cost;
  }
  mpi::allreduce_sum(hist);
  long double total = 0;
  for (uint64_t c : hist) total += c;
  // Shares: each rank's speed (cost per nanosecond) is the model's 1000 ps per ns until it has
  // timed about a second of work, then its recent measured one (RankSpeeds). The ranks start
  // aligning together (the sums above wait for every rank's batch), so rank r gets
  // speed_r / sum(speed) of the cost. (Giving a rank that spent longer on its identity gate
  // less, as once here, only made the others wait at the end instead.)
  std::vector<long double> speed(nranks, 1000.0L);
  if (speeds) {
    const std::vector<uint64_t> done = mpi::allgather(speeds->cost_total);
    const std::vector<uint64_t> recent_cost = mpi::allgather(speeds->recent_cost);
    const std::vector<uint64_t> recent_ns = mpi::allgather(speeds->recent_ns);
    constexpr uint64_t kEnoughCost = 1'000'000'000'000;  // ~1 s in picoseconds
    if (*std::min_element(done.begin(), done.end()) >= kEnoughCost)
      for (int r = 0; r < nranks; ++r)
        speed[r] = (long double)recent_cost[r] / std::max<uint64_t>(recent_ns[r], 1);
  }
  const long double speed_sum = std::accumulate(speed.begin(), speed.end(), 0.0L);
  std::vector<long double> upto(nranks);  // cost where each rank's share ends
  long double acc = 0;
  for (int r = 0; r < nranks; ++r) upto[r] = (acc += speed[r] / speed_sum) * total;
  std::vector<int> bucket_rank(kBuckets);  // the same tables on every rank
  long double at = 0;
  for (size_t b = 0, dest = 0; b < kBuckets; ++b) {
    const long double mid = at + hist[b] / 2.0L;
    while (dest + 1 < size_t(nranks) && mid >= upto[dest]) ++dest;
    bucket_rank[b] = int(dest);
    at += hist[b];
  }
  // Each rank's tail (work_sharing.hpp): the last kTailShare of its range's cost, in chunks of
  // about kChunkNs of alignment at the ranks' mean speed (fewer for a small tail), whole
  // buckets each. chunk_of[b]: the bucket's chunk in its rank's tail, -1 outside the tails.
  // A bucket worth several chunks (a long pair) is left in the head: the head is aligned first,
  // and such a pair last in a step, on whichever rank, would keep the others waiting.
  constexpr long double kTailShare = 0.3L, kChunkNs = 1e6L, kMinChunkNs = 2.5e5L;
  const long double ps_per_ns = speed_sum / nranks;
  std::vector<int32_t> chunk_of(kBuckets, -1);
  std::vector<size_t> chunks_of_rank(nranks, 0);
  for (size_t b = 0; b < kBuckets;) {
    const int d = bucket_rank[b];
    const size_t lo = b;
    long double range_cost = 0;
    for (; b < kBuckets && bucket_rank[b] == d; ++b) range_cost += hist[b];
    size_t tail_start = b;
    long double tail_cost = 0;
    while (tail_start > lo && tail_cost < kTailShare * range_cost) tail_cost += hist[--tail_start];
    const long double target = std::max(kMinChunkNs * ps_per_ns, std::min(kChunkNs * ps_per_ns, tail_cost / 16));
    int32_t chunk = 0;
    long double in_chunk = 0;
    for (size_t t = tail_start; t < b; ++t) {
      if (hist[t] > 4 * target) continue;  // a pair that long stays in the head, aligned first
      chunk_of[t] = chunk;
      if ((in_chunk += hist[t]) >= target) ++chunk, in_chunk = 0;
    }
    chunks_of_rank[d] = size_t(chunk) + (in_chunk > 0 ? 1 : 0);
  }
  const std::vector<int> holders = tail_holders(me, nranks);
  std::vector<std::vector<int>> holders_of(nranks);
  for (int r = 0; r < nranks; ++r) holders_of[r] = tail_holders(r, nranks);
  auto dest_of = [&](const Pair& p) { return bucket_rank[bucket_of(p.center)]; };
  auto chunk_index = [&](const Pair& p) { return chunk_of[bucket_of(p.center)]; };

  // Each pair goes to its rank and, in a tail, to the tail's holders too; a receiver tells the
  // pairs it decides from the copies it holds by the same tables.
  std::vector<std::vector<size_t>> to(nranks);  // batch indexes sent to each rank (own included)
  for (size_t i : order) {
    const int d = dest_of(batch[i]);
    to[d].push_back(i);
    if (chunk_index(batch[i]) >= 0)
      for (int h : holders_of[d]) to[h].push_back(i);
  }
  std::vector<std::string> send(nranks);
  for (int r = 0; r < nranks; ++r) {
    if (r == me || to[r].empty()) continue;
    std::vector<Pair> moved;
    for (size_t i : to[r]) moved.push_back(batch[i]);
    send[r] = pack_pairs(moved, residues);
  }
  std::vector<std::string> recv = mpi::alltoall_bytes(send);

  // Every sequence of the pairs this rank decides or holds: its own batch's, then the moved-in.
  ResidueTable step_residues(2 * to[me].size());
  for (size_t i : to[me]) {
    step_residues.add(batch[i].center, [&] { return residues(batch[i].center); });
    step_residues.add(batch[i].member, [&] { return residues(batch[i].member); });
  }
  const SequenceLookup lookup = [&](uint64_t gid) { return step_residues.at(gid); };
  // This rank's share: its own pairs (slot: batch index) and the ones moved in (slot: place
  // among the pairs from that rank this rank decides, the order the decisions go back in).
  struct Decide {
    Pair pair;
    int from;
    size_t slot;
  };
  std::vector<Decide> share;
  std::vector<size_t> moved_in(nranks, 0);
  std::vector<std::vector<std::vector<Pair>>> held_chunks(nranks);  // copies of the tails this rank holds
  for (int r = 0; r < nranks; ++r)
    if (r != me && std::find(holders_of[r].begin(), holders_of[r].end(), me) != holders_of[r].end())
      held_chunks[r].resize(chunks_of_rank[r]);
  auto take = [&](const Pair& p, int from, size_t slot) {
    const int d = dest_of(p);
    if (d == me) {
      share.push_back({p, from, from == me ? slot : moved_in[from]++});
      return;
    }
    const int32_t c = chunk_index(p);
    if (c < 0 || size_t(c) >= held_chunks[d].size()) fail("internal: rank ", me, " got pair ", p.center, "-", p.member, " of rank ", d);
    held_chunks[d][size_t(c)].push_back(p);
  };
  for (size_t i : to[me]) take(batch[i], me, i);
  for (int r = 0; r < nranks; ++r) {
    if (r == me) continue;
    std::vector<Pair> got;
    unpack_pairs(recv[r], got, step_residues);
    for (const Pair& p : got) take(p, r, 0);
  }
  // The head of the share, then the tail's chunks, each sorted by center: the order every
  // holder uses too.
  std::sort(share.begin(), share.end(), [](const Decide& a, const Decide& b) { return by_center(a.pair, b.pair); });
  std::vector<Pair> head;
  std::vector<size_t> head_at;
  Tail own;
  own.owner = me;
  own.chunks.resize(chunks_of_rank[me]);
  std::vector<std::vector<size_t>> chunk_at(chunks_of_rank[me]);
  for (size_t k = 0; k < share.size(); ++k) {
    const int32_t c = chunk_index(share[k].pair);
    if (c < 0) {
      head.push_back(share[k].pair), head_at.push_back(k);
    } else {
      own.chunks[size_t(c)].push_back(share[k].pair);
      chunk_at[size_t(c)].push_back(k);
    }
  }
  std::vector<Tail> held;
  for (int r = 0; r < nranks; ++r)
    if (!held_chunks[r].empty()) {
      for (auto& chunk : held_chunks[r]) std::sort(chunk.begin(), chunk.end(), by_center);
      held.push_back({r, std::move(held_chunks[r])});
    }

  uint64_t step_cost = 0, step_ns = 0;
  const ChunkAligner align = [&](const std::vector<Pair>& pairs) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<uint8_t> ok = verify(pairs, lookup);
    step_ns += nanoseconds_since(t0);
    step_cost += chunk_cost(pairs, lookup);
    return ok;
  };
  if (speeds) speeds->plan_ns += nanoseconds_since(plan_start);
  std::vector<uint8_t> share_ok(share.size(), 0);
  const uint64_t head_ns_before = step_ns;
  const std::vector<uint8_t> head_ok = align(head);
  const uint64_t head_ns = step_ns - head_ns_before;
  for (size_t k = 0; k < head.size(); ++k) share_ok[head_at[k]] = head_ok[k];
  const auto sharing_start = std::chrono::steady_clock::now();
  const uint64_t aligned_before_tails = step_ns;
  SharingStats sharing;
  const std::vector<std::vector<uint8_t>> tail_ok = share_tails(own, held, align, sharing);
  for (size_t c = 0; c < tail_ok.size(); ++c)
    for (size_t k = 0; k < tail_ok[c].size(); ++k) share_ok[chunk_at[c][k]] = tail_ok[c][k];
  const auto finish_start = std::chrono::steady_clock::now();
  if (speeds) {
    speeds->add(step_cost, step_ns);
    speeds->taken += sharing.taken, speeds->given += sharing.given, speeds->twice += sharing.twice;
    const uint64_t tails_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(finish_start - sharing_start).count());
    const uint64_t idle_ns = tails_ns - std::min(tails_ns, step_ns - aligned_before_tails);
    speeds->idle_ns += idle_ns;
    // Where the waits come from (a giant pair in one rank's head, which no other rank can take).
    if (idle_ns > 50'000'000) {
      uint64_t largest = 0;
      for (const Pair& p : head) largest = std::max<uint64_t>(largest, uint64_t(lookup(p.center).size()) * lookup(p.member).size());
      log::debug("step ", speeds->steps, ": ", double(idle_ns) * 1e-9, " s idle at its end; head ", head.size(), " pairs (",
                 double(head_ns) * 1e-9, " s, largest ", double(largest), " cells), tails ",
                 double(step_ns - aligned_before_tails) * 1e-9, " s, ", sharing.taken, " chunks taken");
    }
  }
  if (speeds) ++speeds->steps;

  // Decisions: own pairs directly, moved-in ones back to their rank (in the order received).
  std::vector<uint8_t> ok(batch.size(), 0);
  std::vector<std::string> reply(nranks);
  for (int r = 0; r < nranks; ++r) reply[r].resize(moved_in[r]);
  for (size_t k = 0; k < share.size(); ++k) {
    if (share[k].from == me) ok[share[k].slot] = share_ok[k];
    else reply[size_t(share[k].from)][share[k].slot] = char(share_ok[k]);
  }
  const std::vector<std::string> back = mpi::alltoall_bytes(reply);
  for (int r = 0; r < nranks; ++r) {
    if (r == me) continue;
    size_t got = 0;
    for (size_t i : to[r]) {
      if (dest_of(batch[i]) != r) continue;  // a copy for a tail r holds
      if (got >= back[r].size()) fail("internal: rank ", r, " decided ", back[r].size(), " pairs, too few");
      ok[i] = uint8_t(back[r][got++]);
    }
    if (got != back[r].size()) fail("internal: rank ", r, " decided ", back[r].size(), " of ", got, " pairs");
  }
  if (speeds) speeds->finish_ns += nanoseconds_since(finish_start);
  return ok;
}

}  // namespace esm::cluster
