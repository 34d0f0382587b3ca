#include "cluster/greedy.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "cluster/exchange.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {

enum : uint8_t { kUndecided = 0, kRep = 1, kMember = 2 };

// The greedy order: longest first, then input order.
bool precedes(uint32_t len_a, uint64_t gid_a, uint32_t len_b, uint64_t gid_b) {
  return len_a != len_b ? len_a > len_b : gid_a < gid_b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct StatusMessage {
  uint64_t gid;
  uint64_t status;
};

}  // namespace

std::vector<uint64_t> greedy_assign(const std::vector<uint32_t>& lens, const Partition& part,
                                    const std::vector<Pair>& candidates,
                                    const std::function<uint32_t(uint64_t)>& center_len,
                                    const BatchVerifier& verify, GreedyStats& stats,
                                    const std::function<void(uint64_t)>& on_decided) {
  const int me = mpi::rank(), nranks = mpi::size();
  const uint64_t first = part.first(me);
  const size_t n = lens.size();
  auto is_local = [&](uint64_t gid) { return gid >= first && gid - first < n; };

  // Candidate centers of each local sequence, in greedy order (CSR).
  std::vector<size_t> start(n + 1, 0);
  for (const Pair& p : candidates) {
    if (!is_local(p.member)) fail("internal: candidate pair for sequence ", p.member, " on the wrong rank");
    ++start[p.member - first + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<uint64_t> cand(candidates.size());
  std::vector<uint32_t> cand_len(candidates.size());
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (const Pair& p : candidates) {
      size_t at = fill[p.member - first]++;
      cand[at] = p.center;
      cand_len[at] = center_len(p.center);
    }
    for (size_t u = 0; u < n; ++u) {
      std::vector<std::pair<uint32_t, uint64_t>> list;
      for (size_t i = start[u]; i < start[u + 1]; ++i) list.push_back({cand_len[i], cand[i]});
      std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return precedes(a.first, a.second, b.first, b.second); });
      for (size_t i = start[u]; i < start[u + 1]; ++i) {
        cand_len[i] = list[i - start[u]].first;
        cand[i] = list[i - start[u]].second;
        if (!precedes(cand_len[i], cand[i], lens[u], first + u))
          fail("internal: candidate center ", cand[i], " does not precede its member ", first + u);
      }
    }
  }

  // Remote centers whose status this rank waits for, and who waits for ours.
  std::vector<uint64_t> remote;
  for (uint64_t c : cand)
    if (!is_local(c)) remote.push_back(c);
  std::sort(remote.begin(), remote.end());
  remote.erase(std::unique(remote.begin(), remote.end()), remote.end());
  std::vector<std::pair<uint64_t, int>> subscribers;  // (local index, rank)
  {
    std::vector<std::vector<uint64_t>> ask(nranks);
    for (uint64_t c : remote) ask[part.owner(c)].push_back(c);
    auto asked = exchange_by_rank(ask);
    for (int r = 0; r < nranks; ++r)
      for (uint64_t g : asked[r]) subscribers.push_back({g - first, r});
    std::sort(subscribers.begin(), subscribers.end());
  }
  std::vector<size_t> sub_start(n + 1, 0);
  for (const auto& s : subscribers) ++sub_start[s.first + 1];
  std::partial_sum(sub_start.begin(), sub_start.end(), sub_start.begin());

  // Statuses of the local sequences (0..n-1), then of the remote centers (n + their place in
  // `remote`); each candidate's slot there is looked up once, not per step.
  std::vector<uint8_t> status(n + remote.size(), kUndecided);
  std::vector<uint32_t> cand_slot(cand.size());
  if (n + remote.size() > UINT32_MAX) fail("internal: more than 2^32 sequences and centers on one rank");
  for (size_t i = 0; i < cand.size(); ++i)
    cand_slot[i] = uint32_t(is_local(cand[i]) ? cand[i] - first
                                              : n + size_t(std::lower_bound(remote.begin(), remote.end(), cand[i]) - remote.begin()));
  std::vector<uint32_t>().swap(cand_len);
  std::vector<uint64_t> rep(n, UINT64_MAX);
  std::vector<size_t> cursor(start.begin(), start.end() - 1);
  std::vector<uint32_t> undecided(n);
  std::iota(undecided.begin(), undecided.end(), 0u);

  // Steps run in lockstep on all ranks (verify may be collective: balanced_verify.hpp). Each
  // step aligns, for every undecided local sequence, the pair with its next candidate center
  // that is known to be a representative, then sends the statuses decided in the step to the
  // ranks waiting for them, so a chain of centers across ranks advances one link per step as it
  // would on one rank (exchanging only when no rank could go on locally took 6x the steps on 2
  // ranks: each a synchronisation point with its own load imbalance).
  std::vector<Pair> tasks;
  std::vector<uint32_t> task_node;
  std::vector<uint32_t> decided_now;
  for (;;) {
    ++stats.steps;
    tasks.clear();
    task_node.clear();
    decided_now.clear();
    for (uint32_t u : undecided) {
      size_t& c = cursor[u];
      bool waiting = false;
      for (; c < start[u + 1]; ++c) {
        const uint8_t st = status[cand_slot[c]];
        if (st == kMember) continue;  // a member takes nobody: no need to align
        if (st == kUndecided) { waiting = true; break; }
        tasks.push_back({cand[c], first + u});  // a representative: is the pair accepted?
        task_node.push_back(u);
        waiting = true;
        break;
      }
      if (!waiting) {  // no representative took it: it becomes one
        status[u] = kRep;
        rep[u] = first + u;
        decided_now.push_back(u);
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<uint8_t> ok = verify(tasks);
    stats.seconds_verify += seconds_since(t0);
    stats.aligned += tasks.size();
    for (size_t i = 0; i < tasks.size(); ++i) {
      uint32_t u = task_node[i];
      if (ok[i]) {
        status[u] = kMember;
        rep[u] = tasks[i].center;
        decided_now.push_back(u);
        ++stats.accepted;
      } else {
        ++cursor[u];
      }
    }
    undecided.erase(std::remove_if(undecided.begin(), undecided.end(), [&](uint32_t u) { return status[u] != kUndecided; }),
                    undecided.end());
    if (on_decided) on_decided(decided_now.size());
    if (nranks == 1) {
      if (undecided.empty()) break;
      continue;
    }
    const auto wait_start = std::chrono::steady_clock::now();
    std::vector<std::vector<StatusMessage>> outbox(nranks);
    for (uint32_t u : decided_now)
      for (size_t s = sub_start[u]; s < sub_start[u + 1]; ++s)
        outbox[subscribers[s].second].push_back({first + u, status[u]});
    for (const StatusMessage& m : exchange(outbox)) {
      auto it = std::lower_bound(remote.begin(), remote.end(), m.gid);
      if (it == remote.end() || *it != m.gid) fail("internal: status for sequence ", m.gid, " nobody asked for");
      status[n + size_t(it - remote.begin())] = uint8_t(m.status);
    }
    const uint64_t left = mpi::allreduce_sum(uint64_t(undecided.size()));
    stats.seconds_wait += seconds_since(wait_start);
    if (left == 0) break;
  }
  log::debug("greedy: aligned ", stats.aligned, " pairs in ", stats.steps, " steps, ", stats.seconds_verify,
             " s deciding, ", stats.seconds_wait, " s exchanging statuses");
  return rep;
}

std::vector<uint64_t> greedy_reference(const std::vector<uint32_t>& lens, const std::vector<Pair>& accepted_edges) {
  const size_t n = lens.size();
  std::vector<std::vector<uint64_t>> takes(n);
  for (const Pair& e : accepted_edges) takes[e.center].push_back(e.member);
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) { return precedes(lens[a], a, lens[b], b); });
  std::vector<uint64_t> rep(n, UINT64_MAX);
  for (uint64_t u : order) {
    if (rep[u] != UINT64_MAX) continue;
    rep[u] = u;
    for (uint64_t v : takes[u])
      if (rep[v] == UINT64_MAX) rep[v] = u;
  }
  return rep;
}

}  // namespace esm::cluster
