#include "cluster/balanced_verify.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>
#include <unordered_map>

#include "align/aligner.hpp"
#include "cluster/pair_message.hpp"
#include "core/error.hpp"
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
// in, more with the other rank busy (it is bound by memory more than the 16-bit fill); 1.1 is
// the figure in runs. Unweighed, such a pair held up a step.
constexpr uint64_t kWideCellPs = 1100;
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

}  // namespace

std::vector<uint8_t> verify_balanced(const std::vector<Pair>& batch, const SequenceLookup& residues,
                                     const LocalVerifier& verify, RankSpeeds* speeds, uint64_t head_start_ns) {
  const int nranks = mpi::size(), me = mpi::rank();
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
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return batch[a].center != batch[b].center ? batch[a].center < batch[b].center : batch[a].member < batch[b].member;
  });
  std::vector<uint64_t> cost(batch.size());
  std::vector<uint64_t> hist(kBuckets, 0);
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    const size_t qlen = residues(batch[i].center).size();
    cost[i] = pair_cost(qlen, residues(batch[i].member).size());
    if (k == 0 || batch[order[k - 1]].center != batch[i].center) cost[i] += kProfileResiduePs * qlen;
    hist[bucket_of(batch[i].center)] += cost[i];
  }
  mpi::allreduce_sum(hist);
  long double total = 0;
  for (uint64_t c : hist) total += c;
  // Shares: each rank's speed (cost per nanosecond) is the model's 1000 ps per ns until it has
  // timed about a second of work, then its recent measured one (RankSpeeds). A rank that spent
  // longer on this step already (its identity gate: head_start_ns) gets less, so that all are
  // expected to finish together: rank r gets speed_r x (T - head_r), T solving sum = total.
  const std::vector<uint64_t> head = mpi::allgather(head_start_ns);
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
  std::vector<long double> share(nranks, 0.0L);
  {
    std::vector<uint8_t> busy(nranks, 1);  // ranks whose head start is past the common finish
    for (bool changed = true; changed;) {
      long double num = total, den = 0;
      for (int r = 0; r < nranks; ++r)
        if (busy[r]) num += speed[r] * head[r], den += speed[r];
      const long double finish = num / den;
      changed = false;
      for (int r = 0; r < nranks; ++r) {
        share[r] = busy[r] ? std::max(0.0L, speed[r] * (finish - head[r])) / std::max(total, 1.0L) : 0.0L;
        if (busy[r] && head[r] >= finish) busy[r] = 0, changed = true;
      }
    }
  }
  std::vector<long double> upto(nranks);  // cost where each rank's share ends
  long double acc = 0;
  for (int r = 0; r < nranks; ++r) upto[r] = (acc += share[r]) * total;
  std::vector<int> bucket_rank(kBuckets);  // the same table on every rank
  long double at = 0;
  for (size_t b = 0, dest = 0; b < kBuckets; ++b) {
    const long double mid = at + hist[b] / 2.0L;
    while (dest + 1 < size_t(nranks) && mid >= upto[dest]) ++dest;
    bucket_rank[b] = int(dest);
    at += hist[b];
  }
  std::vector<std::vector<size_t>> to(nranks);  // batch indexes sent to each rank (own included)
  for (size_t i : order) to[bucket_rank[bucket_of(batch[i].center)]].push_back(i);

  // Moved pairs with the residues of their distinct sequences.
  std::vector<std::string> send(nranks);
  for (int r = 0; r < nranks; ++r) {
    if (r == me || to[r].empty()) continue;
    std::vector<Pair> moved;
    for (size_t i : to[r]) moved.push_back(batch[i]);
    send[r] = pack_pairs(moved, residues);
  }
  std::vector<std::string> recv = mpi::alltoall_bytes(send);

  std::unordered_map<uint64_t, std::string_view> visiting;  // residues of moved-in pairs
  std::vector<Pair> work;
  std::vector<uint64_t> work_cost;
  for (size_t i : to[me]) work.push_back(batch[i]), work_cost.push_back(cost[i]);
  std::vector<size_t> from_count(nranks, 0);
  for (int r = 0; r < nranks; ++r) from_count[r] = unpack_pairs(recv[r], work, visiting);
  auto lookup = [&](uint64_t gid) -> std::string_view {
    auto it = visiting.find(gid);
    return it != visiting.end() ? it->second : residues(gid);
  };
  for (size_t k = work_cost.size(); k < work.size(); ++k)
    work_cost.push_back(pair_cost(lookup(work[k].center).size(), lookup(work[k].member).size()));

  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint8_t> ok_work = verify(work, lookup);
  if (speeds) {
    uint64_t step_cost = 0;
    for (uint64_t c : work_cost) step_cost += c;
    speeds->add(step_cost, nanoseconds_since(start));
  }

  // Decisions: own pairs directly, moved-in ones back to their rank (in the order received).
  std::vector<uint8_t> ok(batch.size(), 0);
  size_t w = 0;
  for (size_t i : to[me]) ok[i] = ok_work[w++];
  std::vector<std::string> reply(nranks);
  for (int r = 0; r < nranks; ++r) {
    reply[r].assign(reinterpret_cast<const char*>(ok_work.data() + w), from_count[r]);
    w += from_count[r];
  }
  const std::vector<std::string> back = mpi::alltoall_bytes(reply);
  for (int r = 0; r < nranks; ++r) {
    if (r == me) continue;
    if (back[r].size() != to[r].size()) fail("internal: rank ", r, " decided ", back[r].size(), " of ", to[r].size(), " pairs");
    for (size_t k = 0; k < to[r].size(); ++k) ok[to[r][k]] = uint8_t(back[r][k]);
  }
  return ok;
}

}  // namespace esm::cluster
