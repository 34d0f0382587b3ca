#include "cluster/verify.hpp"

#include <thread>

#include "align/scoring.hpp"
#include "cluster/parallel_for.hpp"
#include "core/progress.hpp"

namespace esm::cluster {

PairAligners::PairAligners(const align::SearchParams& params, uint64_t db_residues, int threads)
    : params_(params), db_residues_(db_residues), aligners_(size_t(std::max(1, threads))),
      loaded_(aligners_.size(), UINT64_MAX) {}

std::vector<PairResult> PairAligners::align(const std::vector<Pair>& pairs, const SequenceLookup& center,
                                            const SequenceLookup& member, Progress* progress) {
  std::vector<PairResult> results(pairs.size());
  const int threads = int(aligners_.size());
  parallel_for(pairs.size(), threads, 64, [&](size_t b, size_t e, int t) {
    if (!aligners_[t]) aligners_[t].emplace(params_, db_residues_);
    align::Aligner& al = *aligners_[t];
    std::vector<uint8_t> codes;
    for (size_t i = b; i < e; ++i) {
      const Pair& p = pairs[i];
      if (loaded_[t] != p.center) {
        al.set_query(center(p.center));
        loaded_[t] = p.center;
      }
      align::encode_into(member(p.member), codes);
      align::Hit hit;
      results[i].accepted = al.evaluate_one_pass(codes.data(), int(codes.size()), hit);
      results[i].fident = hit.fident;
    }
    if (progress) progress->add(e - b);
  });
  return results;
}

void PairAligners::reserve_traceback(size_t bytes) {
  // One thread per aligner: the pages are faulted in side by side, each by the thread using them.
  std::vector<std::thread> pool;
  for (auto& al : aligners_) {
    if (!al) al.emplace(params_, db_residues_);
    pool.emplace_back([&al, bytes] { al->reserve_traceback(bytes); });
  }
  for (std::thread& t : pool) t.join();
}

std::vector<PairResult> align_pairs(const std::vector<Pair>& pairs, const SequenceLookup& center,
                                    const SequenceLookup& member, const align::SearchParams& params,
                                    uint64_t db_residues, int threads, Progress* progress) {
  return PairAligners(params, db_residues, threads).align(pairs, center, member, progress);
}

}  // namespace esm::cluster
