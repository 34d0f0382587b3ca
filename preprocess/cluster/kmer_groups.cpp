#include "cluster/kmer_groups.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

#include "cluster/exchange.hpp"
#include "cluster/parallel_for.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {

// Group order: by k-mer, then longest first, then set (representatives before members of equal
// length), then global index. Fully determined by the inputs, whatever rank sent what.
struct GroupOrder {
  bool operator()(const KmerTuple& a, const KmerTuple& b) const {
    if (a.code != b.code) return a.code < b.code;
    if (a.len != b.len) return a.len > b.len;
    if (a.set != b.set) return a.set > b.set;
    return a.gid < b.gid;
  }
};

}  // namespace

int kmer_owner(uint64_t code, int nranks) {
  // A second mix so the owner is independent of the selection order (which keeps low hashes).
  return int((kmer_hash(code ^ 0x5bd1e9955bd1e995ULL) >> 17) % uint64_t(nranks));
}

std::vector<KmerTuple> route_kmers(const std::vector<SequenceSet>& sets, const KmerParams& params, int threads) {
  int nranks = mpi::size();
  threads = std::max(1, threads);
  // One outbox per thread and rank; merged after, so no locking in the loop.
  std::vector<std::vector<std::vector<KmerTuple>>> boxes(threads, std::vector<std::vector<KmerTuple>>(nranks));
  // Sized up front for the k-mers to come (owners are hashed, so each rank gets about its
  // share): grown by doubling, the 120 MB of tuples of 200,000 proteins were copied and faulted
  // in twice over on one rank.
  uint64_t expect = 0;
  for (const SequenceSet& s : sets)
    for (std::string_view q : s.seqs) expect += std::min<uint64_t>(uint64_t(params.per_seq), q.size());
  const size_t each = size_t(double(expect) / threads / nranks * 1.05) + 64;
  for (auto& per_rank : boxes)
    for (auto& box : per_rank) box.reserve(each);
  for (const SequenceSet& s : sets) {
    parallel_for(s.seqs.size(), threads, 256, [&](size_t b, size_t e, int t) {
      std::vector<SelectedKmer> kept;
      for (size_t i = b; i < e; ++i) {
        kept.clear();
        select_kmers(s.seqs[i], params, kept);
        uint32_t len = uint32_t(s.seqs[i].size());
        for (const SelectedKmer& k : kept)
          boxes[t][kmer_owner(k.code, nranks)].push_back({k.code, s.gids.empty() ? s.first_gid + i : s.gids[i], len, s.set});
      }
    });
  }
  std::vector<std::vector<KmerTuple>> outbox(nranks);
  for (int r = 0; r < nranks && threads == 1; ++r) outbox[r] = std::move(boxes[0][r]);  // nothing to merge
  for (int r = 0; r < nranks && threads > 1; ++r) {
    size_t n = 0;
    for (int t = 0; t < threads; ++t) n += boxes[t][r].size();
    outbox[r].reserve(n);
    for (int t = 0; t < threads; ++t) {
      outbox[r].insert(outbox[r].end(), boxes[t][r].begin(), boxes[t][r].end());
      std::vector<KmerTuple>().swap(boxes[t][r]);
    }
  }
  return exchange(outbox);
}

std::vector<Pair> center_pairs(std::vector<KmerTuple>& tuples, int threads) {
  parallel_sort(tuples.begin(), tuples.end(), GroupOrder{}, threads);
  std::vector<Pair> pairs;
  for (size_t b = 0, e; b < tuples.size(); b = e) {
    e = b + 1;
    while (e < tuples.size() && tuples[e].code == tuples[b].code) ++e;
    for (size_t i = b + 1; i < e; ++i) pairs.push_back({tuples[b].gid, tuples[i].gid});
  }
  return pairs;
}

std::vector<Pair> representative_pairs(std::vector<KmerTuple>& tuples, int max_reps, int threads) {
  parallel_sort(tuples.begin(), tuples.end(), GroupOrder{}, threads);
  std::vector<Pair> pairs;
  std::vector<uint64_t> reps;
  for (size_t b = 0, e; b < tuples.size(); b = e) {
    e = b + 1;
    while (e < tuples.size() && tuples[e].code == tuples[b].code) ++e;
    reps.clear();
    for (size_t i = b; i < e && int(reps.size()) < max_reps; ++i)
      if (tuples[i].set == 1) reps.push_back(tuples[i].gid);
    if (reps.empty()) continue;
    for (size_t i = b; i < e; ++i)
      if (tuples[i].set == 0)
        for (uint64_t r : reps) pairs.push_back({r, tuples[i].gid});
  }
  return pairs;
}

std::vector<Pair> route_pairs_to_members(std::vector<Pair>& pairs, const Partition& members, int threads) {
  // Drop repeats before sending: a pair that shares several kept k-mers meets on several ranks,
  // but often on this one more than once too.
  parallel_sort(pairs.begin(), pairs.end(), std::less<Pair>(), threads);
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<std::vector<Pair>> outbox(mpi::size());
  for (const Pair& p : pairs) outbox[members.owner(p.member)].push_back(p);
  std::vector<Pair>().swap(pairs);
  std::vector<Pair> mine = exchange(outbox);
  // Each rank's part arrives sorted; on one rank (or when the parts do not interleave) that is
  // the whole order already.
  if (!std::is_sorted(mine.begin(), mine.end())) parallel_sort(mine.begin(), mine.end(), std::less<Pair>(), threads);
  mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
  return mine;
}

}  // namespace esm::cluster
