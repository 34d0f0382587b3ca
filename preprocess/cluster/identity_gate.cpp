#include "cluster/identity_gate.hpp"

#include <algorithm>
#include <numeric>

#include "align/diagonal_score.hpp"
#include "align/scoring.hpp"
#include "cluster/parallel_for.hpp"

namespace esm::cluster {

bool identity_gate_active(const align::SearchParams& params, double gate) {
  return gate > 0 && params.min_seq_id >= align::kIdentityGateMinSeqId;
}

std::vector<uint8_t> identity_gate(const std::vector<Pair>& pairs, const SequenceLookup& residues,
                                   const align::SearchParams& params, double gate, int threads) {
  std::vector<uint8_t> pass(pairs.size(), 1);
  if (!identity_gate_active(params, gate)) return pass;
  // By center, so each thread indexes a center's 3-mers once.
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return pairs[a].center != pairs[b].center ? pairs[a].center < pairs[b].center : a < b;
  });
  threads = std::max(1, threads);
  struct Worker {
    align::SharedDiagonals diagonals;
    std::vector<uint8_t> center, member;
    uint64_t loaded = UINT64_MAX;
  };
  std::vector<Worker> workers(threads);
  parallel_for(order.size(), threads, 256, [&](size_t b, size_t e, int t) {
    Worker& w = workers[t];
    for (size_t k = b; k < e; ++k) {
      const Pair& p = pairs[order[k]];
      const std::string_view m = residues(p.member);
      const int64_t qlen = int64_t(residues(p.center).size()), tlen = int64_t(m.size());
      if (qlen * tlen < kGateMinCells) continue;
      if (w.loaded != p.center) {
        align::encode_into(residues(p.center), w.center);
        w.diagonals.set_query(w.center.data(), int(w.center.size()));
        w.loaded = p.center;
      }
      align::encode_into(m, w.member);
      const double need = gate * align::required_identities(params, int(qlen), int(tlen));
      pass[order[k]] = w.diagonals.top_diagonals_score(w.member.data(), int(tlen)) >= need;
    }
  });
  return pass;
}

}  // namespace esm::cluster
