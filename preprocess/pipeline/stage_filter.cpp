// Stage "filter": the validation representatives are gathered on every rank (they are ~0.5%
// of UniRef50) and indexed once; each rank streams its own train representatives through the
// identity filter in batches. A train record with an accepted hit is removed (contract rule 2).
#include <algorithm>
#include <memory>
#include <cstdio>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/progress.hpp"
#ifndef ESMPIPE_NO_IDENTITY_FILTER
#include "filter/identity_filter.hpp"
#endif
#include "io/fasta.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"
#include "pipeline/uniref50_walk.hpp"

namespace esm::prep {

namespace {
constexpr size_t kBatchRecords = 8192;
constexpr size_t kBatchResidues = size_t(16) << 20;

std::string removed_row(const align::Hit& h) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "\t%.3f\t%.3f\t%.3f\t%.2e\n", h.fident, h.qcov(), h.tcov(), h.evalue);
  return h.query + "\t" + h.target + buf;
}
}  // namespace

// The validation records of every rank, in UniRef50 input order.
std::vector<io::FastaRecord> gather_validation(const Context& ctx) {
  Packer mine;
  Uniref50Walk walk(ctx, false);
  while (walk.next())
    if (walk.status() == ClusterStatus::Validation) mine.str(walk.id()).str(walk.seq());
  std::vector<io::FastaRecord> out;
  for (const auto& buf : mpi::allgather_bytes(mine.bytes())) {
    Unpacker u(buf);
    while (!u.done()) {
      io::FastaRecord r;
      r.id = u.str();
      r.seq = u.str();
      out.push_back(std::move(r));
    }
  }
  return out;
}

json::Value stage_filter(Context& ctx) {
  std::vector<io::FastaRecord> targets = gather_validation(ctx);
  uint64_t target_residues = 0;
  for (const auto& t : targets) target_residues += t.seq.size();
  log::info0(str("filter: ", targets.size(), " validation sequences (", target_residues, " residues) indexed on every rank"));
  // With no validation set there is nothing to be identical to: every train record stays.
  const bool no_targets = targets.empty();
#ifdef ESMPIPE_NO_IDENTITY_FILTER
  if (!no_targets) fail("this build has no identity filter (preprocess/filter); only --val-size 0 can run");
  auto search = [&](const std::vector<io::FastaRecord>&) { return std::vector<align::Hit>{}; };
#else
  std::unique_ptr<filter::IdentityFilter> identity;
  if (!no_targets) identity = std::make_unique<filter::IdentityFilter>(targets, ctx.params.search, ctx.params.threads);
  auto search = [&](const std::vector<io::FastaRecord>& queries) {
    return no_targets ? std::vector<align::Hit>{} : identity->search(queries, false);
  };
#endif
  targets.clear();
  targets.shrink_to_fit();

  RecordWriter removed(ctx.rank_work("removed.zst"));
  Progress progress("filter", ctx.local50(), "seqs");
  std::vector<io::FastaRecord> batch;
  std::vector<uint64_t> batch_index;
  size_t batch_residues = 0;
  uint64_t searched = 0, n_removed = 0, batches = 0;
  Packer p;
  auto run_batch = [&]() {
    if (batch.empty()) return;
    std::unordered_map<std::string_view, uint64_t> where;
    for (size_t i = 0; i < batch.size(); ++i) where.emplace(batch[i].id, batch_index[i]);
    std::vector<align::Hit> hits = search(batch);
    // Rows in train input order whatever order the engine reports them in.
    std::vector<std::pair<uint64_t, std::string>> rows;
    for (const auto& h : hits) {
      auto it = where.find(h.query);
      if (it == where.end()) fail("internal: identity filter reported unknown query ", h.query);
      rows.emplace_back(it->second, removed_row(h));
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
               rows.end());
    for (const auto& [idx, row] : rows) {
      p.clear();
      removed.put(p.u64(idx).str(row));
    }
    n_removed += rows.size();
    searched += batch.size();
    progress.add(batch.size(), batch_residues);
    batch.clear();
    batch_index.clear();
    batch_residues = 0;
    if (++batches == 1) ctx.kill_point("filter");
  };
  Uniref50Walk walk(ctx, false);
  while (walk.next()) {
    if (walk.status() == ClusterStatus::Validation) {
      progress.add(1);
      continue;
    }
    io::FastaRecord r;
    r.id = walk.id();
    r.seq = walk.seq();
    batch_residues += r.seq.size();
    batch.push_back(std::move(r));
    batch_index.push_back(walk.index());
    if (batch.size() >= kBatchRecords || batch_residues >= kBatchResidues) run_batch();
  }
  run_batch();
  if (batches == 0) ctx.kill_point("filter");
  progress.finish();
  removed.close();
  log::info("filter: searched ", searched, " train sequences, removed ", n_removed);
  json::Value out;
  out["train_searched"] = mpi::allreduce_sum(searched);
  out["removed"] = mpi::allreduce_sum(n_removed);
  return out;
}

}  // namespace esm::prep
