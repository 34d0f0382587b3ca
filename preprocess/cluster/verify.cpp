#include "cluster/verify.hpp"

#include <optional>

#include "align/aligner.hpp"
#include "align/scoring.hpp"
#include "cluster/parallel_for.hpp"
#include "core/progress.hpp"

namespace esm::cluster {

std::vector<PairResult> align_pairs(const std::vector<Pair>& pairs, const SequenceLookup& center,
                                    const SequenceLookup& member, const align::SearchParams& params,
                                    uint64_t db_residues, int threads, Progress* progress) {
  std::vector<PairResult> results(pairs.size());
  threads = std::max(1, threads);
  std::vector<std::optional<align::Aligner>> aligners(threads);
  std::vector<uint64_t> loaded(threads, UINT64_MAX);
  parallel_for(pairs.size(), threads, 64, [&](size_t b, size_t e, int t) {
    if (!aligners[t]) aligners[t].emplace(params, db_residues);
    align::Aligner& al = *aligners[t];
    std::vector<uint8_t> codes;
    for (size_t i = b; i < e; ++i) {
      const Pair& p = pairs[i];
      if (loaded[t] != p.center) {
        al.set_query(center(p.center));
        loaded[t] = p.center;
      }
      std::string_view m = member(p.member);
      align::encode_into(m, codes);
      align::Hit hit;
      results[i].accepted = al.evaluate_one_pass(codes.data(), int(codes.size()), hit);
      results[i].fident = hit.fident;
    }
    if (progress) progress->add(e - b);
  });
  return results;
}

}  // namespace esm::cluster
