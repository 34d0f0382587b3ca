#include "cluster/linclust.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "cluster/balanced_verify.hpp"
#include "cluster/greedy.hpp"
#include "cluster/identity_gate.hpp"
#include "cluster/kmer_groups.hpp"
#include "cluster/sequence_fetch.hpp"
#include "cluster/verify.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::vector<uint64_t> linclust(const std::vector<std::string_view>& seqs, const Partition& part,
                               const ClusterOptions& options, ClusterStats& stats) {
  const int me = mpi::rank();
  const uint64_t first = part.first(me);
  uint64_t local_residues = 0;
  for (auto s : seqs) local_residues += s.size();
  stats.sequences = part.total();
  // E-values are computed against the whole input, as MMseqs2 does for a clustering.
  stats.residues = mpi::allreduce_sum(local_residues);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<KmerTuple> tuples = route_kmers({SequenceSet{seqs, first, 0, {}}}, options.kmers, options.threads);
  stats.kmers = tuples.size();
  stats.seconds_kmers = since(t0);

  t0 = std::chrono::steady_clock::now();
  std::vector<Pair> pairs = center_pairs(tuples, options.threads);
  std::vector<KmerTuple>().swap(tuples);
  pairs = route_pairs_to_members(pairs, part, options.threads);
  stats.pairs = pairs.size();
  stats.seconds_pairs = since(t0);

  t0 = std::chrono::steady_clock::now();
  std::vector<uint64_t> remote;
  for (const Pair& p : pairs)
    if (part.owner(p.center) != me) remote.push_back(p.center);
  SequenceCache centers = fetch_sequences(std::move(remote), part, seqs);
  stats.seconds_fetch = since(t0);
  auto residues_of = [&](uint64_t gid) -> std::string_view {
    if (gid >= first && gid - first < seqs.size()) return seqs[gid - first];
    return centers.get(gid);
  };

  t0 = std::chrono::steady_clock::now();
  std::vector<uint32_t> lens(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) lens[i] = uint32_t(seqs[i].size());
  // Counted in sequences decided: only about a third of the candidate pairs get aligned.
  Progress progress("deciding sequences", seqs.size(), "seqs");
  PairAligners aligners(options.search, stats.residues, options.threads);
  // Decides pairs on the rank they were balanced to: the identity gate first, then the
  // alignments of the pairs it lets through. Gating here rather than on the member's rank, before
  // the balancing, costs moving the gated pairs too, but the ranks then start a step's work
  // together (the balancing waits for every rank's batch: the rank with less to gate waited, 0.06
  // s of 7 on 200,000 proteins and 2 ranks) and a center's 3-mers are indexed on one rank only.
  LocalVerifier align_here = [&](const std::vector<Pair>& batch, const SequenceLookup& residues) {
    const auto gate_start = std::chrono::steady_clock::now();
    const std::vector<uint8_t> pass = identity_gate(batch, residues, options.search, options.identity_gate, options.threads);
    stats.seconds_gate += since(gate_start);
    // Sorted by center so each thread builds a center's profile once.
    std::vector<size_t> idx;
    for (size_t i = 0; i < batch.size(); ++i)
      if (pass[i]) idx.push_back(i);
    stats.checked += batch.size();
    stats.gated += batch.size() - idx.size();
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      return batch[a].center != batch[b].center ? batch[a].center < batch[b].center : batch[a].member < batch[b].member;
    });
    std::vector<Pair> sorted(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) sorted[i] = batch[idx[i]];
    auto res = aligners.align(sorted, residues, residues);
    std::vector<uint8_t> ok(batch.size(), 0);
    for (size_t i = 0; i < idx.size(); ++i) ok[idx[i]] = res[i].accepted;
    return ok;
  };
  {
    // The largest matrix any rank may align (pairs move between ranks), faulted in before the
    // steps: grown pair by pair inside them, the faults (~0.4 ms per MB) landed on whichever rank
    // met the first large pair, a cost the balancer cannot see (up to 5x a pair's modelled time).
    // At most kPrefaultBytes per rank in all: with many threads each gets a slice (the sizes most
    // pairs need) and grows past it only if a larger pair comes, so RSS does not jump by 256 MiB
    // per thread whatever the data.
    constexpr size_t kPrefaultBytes = size_t(512) << 20;
    size_t most = 0;
    for (const Pair& p : pairs) {
      const int qlen = int(residues_of(p.center).size()), tlen = int(seqs[p.member - first].size());
      if (align::can_be_covered(options.search, qlen, tlen))
        most = std::max(most, align::Aligner::traceback_bytes(qlen, tlen));
    }
    most = size_t(mpi::allreduce_max(uint64_t(most)));
    const auto fault_start = std::chrono::steady_clock::now();
    const size_t each = std::min(most, kPrefaultBytes / size_t(std::max(1, options.threads)));
    aligners.reserve_traceback(each);
    log::debug("traceback storage: ", std::min(each, align::TraceBuffer::kKeepBytes) >> 20, " MiB per thread faulted in, ",
               since(fault_start), " s");
  }
  RankSpeeds speeds;
  BatchVerifier verify = [&](const std::vector<Pair>& batch) {
    return verify_balanced(batch, residues_of, align_here, &speeds);
  };
  GreedyStats g;
  std::vector<uint64_t> rep = greedy_assign(
      lens, part, pairs, [&](uint64_t gid) { return uint32_t(residues_of(gid).size()); }, verify, g,
      [&](uint64_t n) { progress.add(n); });
  progress.finish();
  stats.aligned = g.aligned;
  stats.accepted = g.accepted;
  stats.steps = g.steps;
  stats.seconds_verify = g.seconds_verify;
  stats.seconds_align = double(speeds.nanoseconds) * 1e-9 - stats.seconds_gate;  // speeds timed both
  stats.seconds_wait = g.seconds_wait;
  log::debug("balancing: ", double(speeds.plan_ns) * 1e-9, " s planning steps and moving pairs, ",
             double(speeds.idle_ns) * 1e-9, " s idle at step ends (tails: ", speeds.taken, " chunks taken from others, ",
             speeds.given, " given, ", speeds.twice, " aligned twice), ", double(speeds.finish_ns) * 1e-9,
             " s taking decisions back");
  stats.seconds_greedy = since(t0);
  return rep;
}

}  // namespace esm::cluster
