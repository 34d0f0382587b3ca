#include "filter/identity_filter.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <thread>

#include "align/aligner.hpp"
#include "align/diagonal_score.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"

namespace esm::filter {

void FilterStats::add(const FilterStats& o) {
  queries += o.queries, residues += o.residues, seed_hits += o.seed_hits;
  candidates += o.candidates, ungapped_pass += o.ungapped_pass, aligned += o.aligned;
  tracebacks += o.tracebacks, accepted += o.accepted;
}

// Per-thread state: an aligner (query profiles) and per-target seed bookkeeping, reset through
// the list of touched targets so a query costs O(its seed hits), not O(targets).
enum : uint8_t { kUntouched = 0, kActive = 1, kRejected = 2, kCandidate = 3 };

struct IdentityFilter::Worker {
  align::Aligner aligner;
  std::vector<uint8_t> state;                 // per target, for the current query
  // The last kRecent distinct diagonals hit per target (a ring): a homolog's diagonal repeats
  // even when random seed hits on other diagonals come in between.
  static constexpr int kRecent = 4;
  std::vector<std::array<int32_t, kRecent>> recent;
  std::vector<uint8_t> ring;
  std::vector<uint16_t> hits;  // seed hits per target: repeats spread over many diagonals
  std::vector<int32_t> tested_diag;  // valid while state == kActive
  // Identity gate: summed ungapped score of the passing diagonals, the score to reach, and the
  // last kRecent passing diagonals (a diagonal tested again later must not count twice).
  std::vector<int32_t> gate_sum, gate_need;
  std::vector<std::array<int32_t, kRecent>> passed;
  std::vector<uint8_t> passed_ring;
  std::vector<uint32_t> touched, candidates;
  FilterStats stats;
  Worker(const align::SearchParams& p, uint64_t db, size_t ntargets)
      : aligner(p, db), state(ntargets, kUntouched), recent(ntargets), ring(ntargets), hits(ntargets), tested_diag(ntargets), gate_sum(ntargets),
        gate_need(ntargets), passed(ntargets), passed_ring(ntargets) {}
  // Adds a passing diagonal's score once; true when the target reaches its gate.
  bool add_to_gate(uint32_t t, int32_t diag, int score) {
    auto& r = passed[t];
    for (int k = 0; k < kRecent; ++k)
      if (r[k] == diag) return false;
    r[passed_ring[t]] = diag;
    passed_ring[t] = uint8_t((passed_ring[t] + 1) % kRecent);
    gate_sum[t] += score;
    return gate_sum[t] >= gate_need[t];
  }
  // Records diag for target t; true when it was already among the recent diagonals.
  bool seen_before(uint32_t t, int32_t diag) {
    auto& r = recent[t];
    for (int k = 0; k < kRecent; ++k)
      if (r[k] == diag) return true;
    r[ring[t]] = diag;
    ring[t] = uint8_t((ring[t] + 1) % kRecent);
    return false;
  }
};

IdentityFilter::IdentityFilter(std::vector<io::FastaRecord> targets, align::SearchParams params,
                               int threads, FilterOptions options)
    : targets_(std::move(targets)), params_(params), threads_(std::max(1, threads)), options_(options) {
  align::validate(params_);
  std::vector<std::string> seqs;
  seqs.reserve(targets_.size());
  uint64_t residues = 0;
  for (const auto& t : targets_) seqs.push_back(t.seq), residues += t.seq.size();
  const SeedPattern seed = options_.seed.empty() ? default_seed(residues) : SeedPattern{options_.seed};
  index_ = std::make_unique<TargetIndex>(seqs, seed);
  for (int k = 0; k < threads_; ++k)
    workers_.push_back(std::make_unique<Worker>(params_, index_->residues(), targets_.size()));
}

IdentityFilter::~IdentityFilter() = default;

int identity_gate_score(const align::SearchParams& p, const FilterOptions& o, int min_ungapped, int qlen,
                        int tlen) {
  if (o.identity_gate <= 0 || p.min_seq_id < align::kIdentityGateMinSeqId) return min_ungapped;
  return std::max(min_ungapped, int(std::ceil(o.identity_gate * align::required_identities(p, qlen, tlen))));
}


std::vector<align::Hit> IdentityFilter::search(const std::vector<io::FastaRecord>& queries, bool all_hits) {
  const size_t nq = queries.size();
  std::vector<std::vector<align::Hit>> per_query(nq);
  std::atomic<size_t> next{0};
  const int min_ungapped =
      int(std::ceil((options_.min_ungapped_bits * std::log(2.0) + std::log(0.044620920658722244834)) /
                    0.27359865037097330642));
  const TargetIndex& idx = *index_;

  auto run = [&](Worker& w) {
    constexpr size_t kBlock = 8;
    for (;;) {
      const size_t begin = next.fetch_add(kBlock);
      if (begin >= nq) break;
      const size_t end = std::min(nq, begin + kBlock);
      uint64_t residues = 0;
      for (size_t qi = begin; qi < end; ++qi) {
        const io::FastaRecord& rec = queries[qi];
        residues += rec.seq.size();
        ++w.stats.queries;
        w.stats.residues += rec.seq.size();
        w.aligner.set_query(rec.seq);
        const align::QueryProfile& qp = w.aligner.query();
        const int qlen = qp.len;
        if (qlen == 0) continue;
        // Seeds: two hits on one diagonal (one for short queries) trigger the ungapped gate on
        // that diagonal; a target passing it becomes a candidate. A failed diagonal does not
        // end the target: a later two-hit diagonal gets its own test.
        const bool single = qlen < options_.single_hit_below;
        w.candidates.clear();
        for (int i = 0; i + idx.seed().span() <= qlen; ++i) {
          const int64_t key = idx.key_at(qp.codes.data(), qlen, i);
          if (key < 0) continue;
          for (const SeedEntry* e = idx.bucket_begin(key); e != idx.bucket_end(key); ++e) {
            const uint32_t t = e->target;
            ++w.stats.seed_hits;
            uint8_t& state = w.state[t];
            if (state >= kRejected) continue;  // rejected, or already past both gates
            const int32_t diag = i - int32_t(e->pos);
            if (state == kUntouched) {
              w.touched.push_back(t);
              if (!align::can_be_covered(params_, qlen, idx.length(t))) {
                state = kRejected;
                continue;
              }
              state = kActive;
              w.tested_diag[t] = INT32_MIN;
              w.recent[t].fill(INT32_MIN);
              w.ring[t] = 0;
              w.hits[t] = 0;
              w.gate_sum[t] = 0;
              w.gate_need[t] = identity_gate_score(params_, options_, min_ungapped, qlen, idx.length(t));
              w.passed[t].fill(INT32_MIN);
              w.passed_ring[t] = 0;
            }
            // Repeat proteins put their hits on more diagonals than the ring holds: after 8, 16,
            // 32... hits the current diagonal is tested anyway.
            const uint16_t n = ++w.hits[t];
            const bool many = n >= 8 && (n & (n - 1)) == 0;
            if (!w.seen_before(t, diag) && !single && !many) continue;
            if (w.tested_diag[t] == diag) continue;
            w.tested_diag[t] = diag;
            ++w.stats.candidates;
            const int ungapped = align::ungapped_diagonal_score(qp, idx.codes(t), idx.length(t), diag);
            if (ungapped < min_ungapped || !w.add_to_gate(t, diag, ungapped)) continue;
            state = kCandidate;
            ++w.stats.ungapped_pass;
            w.candidates.push_back(t);
          }
        }
        std::sort(w.candidates.begin(), w.candidates.end());
        for (uint32_t t : w.candidates) {
          const int tlen = idx.length(t);
          ++w.stats.aligned;
          align::Hit h;
          const int score = w.aligner.score(idx.codes(t), tlen);
          if (score < w.aligner.min_score()) continue;
          ++w.stats.tracebacks;
          const align::Alignment a = w.aligner.align_scored(idx.codes(t), tlen, score);
          h = align::make_hit(a, qlen, tlen, idx.residues(), params_.seq_id_mode);
          if (!align::accept(params_, h)) continue;
          h.query = rec.id;
          h.target = targets_[t].id;
          per_query[qi].push_back(std::move(h));
          if (!all_hits) break;
        }
        if (!per_query[qi].empty()) ++w.stats.accepted;
        for (uint32_t t : w.touched) w.state[t] = kUntouched;
        w.touched.clear();
      }
      if (progress_) progress_->add(end - begin, residues);
    }
  };

  std::vector<std::thread> pool;
  for (int k = 1; k < threads_; ++k) pool.emplace_back(run, std::ref(*workers_[k]));
  run(*workers_[0]);
  for (auto& th : pool) th.join();
  stats_ = FilterStats{};
  for (auto& w : workers_) stats_.add(w->stats);

  std::vector<align::Hit> out;
  for (auto& v : per_query)
    for (auto& h : v) out.push_back(std::move(h));
  return out;
}

}  // namespace esm::filter
