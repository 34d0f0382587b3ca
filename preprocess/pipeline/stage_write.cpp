// Stage "write": every output is written by all ranks at once (io/ordered_writer.hpp), each rank
// its own slice at the prefix sum of the lower ranks' sizes. One pass over the sorted records
// measures the slices, a second writes them, so no rank holds more than one record at a time.
#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "io/ordered_writer.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"
#include "pipeline/uniref50_walk.hpp"
#include "pipeline/sample_sort.hpp"

namespace esm::prep {

const std::vector<std::string>& output_names() {
  static const std::vector<std::string> names = {
      "uniref50_train_filt.fasta", "uniref50_valid.fasta", "uniref90membersandreps_ur50trainfiltreps.fasta",
      "mapping.tsv", "starts.mmap", "counts.mmap", "sampling_offsets.mmap", "removed.tsv", "orphans.tsv"};
  return names;
}

namespace {

struct SortedRecord {
  uint64_t cluster, minor;
  std::string_view id, seq;
};

SortedRecord parse(std::string_view rec) {
  Unpacker u(rec);
  SortedRecord r;
  r.cluster = u.u64();
  r.minor = u.u64();
  r.id = u.str();
  r.seq = u.str();
  return r;
}

uint64_t fasta_size(const SortedRecord& r) { return r.id.size() + r.seq.size() + 3; }

void put_fasta(io::OrderedWriter& f, std::string_view id, std::string_view seq) {
  f.write(">");
  f.write(id);
  f.write("\n");
  f.write(seq);
  f.write("\n");
}

// Calls fn(first, last) for each cluster (a run of records with one cluster index).
template <typename Fn>
void for_each_cluster(const std::string& path, Fn fn) {
  RecordReader in(path);
  std::vector<std::string> bufs;  // the records of the current cluster (owned copies)
  std::string_view rec;
  uint64_t current = ~uint64_t(0);
  auto flush = [&]() {
    if (bufs.empty()) return;
    std::vector<SortedRecord> recs;
    recs.reserve(bufs.size());
    for (const auto& b : bufs) recs.push_back(parse(b));
    if (recs.front().minor != 0) fail("internal: cluster ", recs.front().cluster, " has no representative first");
    fn(recs);
    bufs.clear();
  };
  while (in.next(rec)) {
    uint64_t major, minor;
    sort_keys(rec, major, minor);
    if (major != current) { flush(); current = major; }
    bufs.emplace_back(rec);
  }
  flush();
}

}  // namespace

json::Value stage_write(Context& ctx) {
  const auto& p = ctx.params;
  const bool root = ctx.rank == 0, last = ctx.rank == ctx.nranks - 1;
  const std::string sorted = ctx.rank_work("sorted.zst");

  auto t0 = std::chrono::steady_clock::now();
  auto since = [&]() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  // Pass 1: sizes of this rank's slices.
  uint64_t train_bytes = 0, sampling_bytes = 0, mapping_bytes = 0, rows = 0, records = 0;
  for_each_cluster(sorted, [&](const std::vector<SortedRecord>& c) {
    train_bytes += fasta_size(c.front());
    mapping_bytes += c.front().id.size() + 2;  // ID, TAB ... newline
    for (size_t i = 0; i < c.size(); ++i) {
      sampling_bytes += fasta_size(c[i]);
      mapping_bytes += c[i].id.size() + (i ? 1 : 0);
    }
    records += c.size();
    ++rows;
  });
  const std::string mapping_header = "ur50_id\tmembers\n";
  if (root) mapping_bytes += mapping_header.size();

  // Validation records of this rank's UniRef50 shard, cropped (~0.5% of the shard).
  std::string valid_text;
  {
    Uniref50Walk walk(ctx, false);
    while (walk.next()) {
      if (walk.status() != ClusterStatus::Validation) continue;
      std::string_view seq = crop(p, walk.seq(), walk.index(), false);
      valid_text.append(">").append(walk.id()).append("\n").append(seq).append("\n");
    }
  }
  std::string removed_text = root ? "train_id\tval_id\tidentity\tqcov\ttcov\tevalue\n" : "";
  {
    RecordReader in(ctx.rank_work("removed.zst"));
    std::string_view rec;
    while (in.next(rec)) {
      Unpacker u(rec);
      u.u64();
      removed_text.append(u.str());
    }
  }
  std::string orphans_text = root ? "id\treason\n" : "";
  if (root) {
    RecordReader in(ctx.work("orphans.zst"));
    std::string_view rec;
    while (in.next(rec)) orphans_text.append(rec);
  }

  log::debug("write: sizes measured at ", since(), " s");
  // Pass 2: every file open at once, each rank writing its slice.
  io::OrderedWriter train(ctx.out_path("uniref50_train_filt.fasta"), train_bytes);
  io::OrderedWriter valid(ctx.out_path("uniref50_valid.fasta"), valid_text.size());
  io::OrderedWriter sampling(ctx.out_path("uniref90membersandreps_ur50trainfiltreps.fasta"), sampling_bytes);
  io::OrderedWriter mapping(ctx.out_path("mapping.tsv"), mapping_bytes);
  io::OrderedWriter starts(ctx.out_path("starts.mmap"), 8 * rows);
  io::OrderedWriter counts(ctx.out_path("counts.mmap"), 8 * rows);
  io::OrderedWriter offsets(ctx.out_path("sampling_offsets.mmap"), 8 * records + (last ? 8 : 0));
  io::OrderedWriter removed(ctx.out_path("removed.tsv"), removed_text.size());
  io::OrderedWriter orphans(ctx.out_path("orphans.tsv"), orphans_text.size());

  log::debug("write: files opened at ", since(), " s");
  valid.write(valid_text);
  removed.write(removed_text);
  orphans.write(orphans_text);
  if (root) mapping.write(mapping_header);
  uint64_t record_index = mpi::exscan_sum(records), byte = sampling.offset();
  for_each_cluster(sorted, [&](const std::vector<SortedRecord>& c) {
    put_fasta(train, c.front().id, c.front().seq);
    starts.write_u64(record_index);
    counts.write_u64(c.size());
    mapping.write(c.front().id);
    mapping.write("\t");
    for (size_t i = 0; i < c.size(); ++i) {
      if (i) mapping.write(",");
      mapping.write(c[i].id);
      put_fasta(sampling, c[i].id, c[i].seq);
      offsets.write_u64(byte);
      byte += fasta_size(c[i]);
    }
    mapping.write("\n");
    record_index += c.size();
  });
  if (last) offsets.write_u64(byte);
  ctx.kill_point("write");
  log::debug("write: slices written at ", since(), " s");
  for (io::OrderedWriter* f : {&train, &valid, &sampling, &mapping, &starts, &counts, &offsets, &removed, &orphans})
    f->close();
  log::debug("write: files closed at ", since(), " s");

  json::Value o;
  o["train_clusters"] = mpi::allreduce_sum(rows);
  o["sampling_records"] = mpi::allreduce_sum(records);
  o["validation_bytes"] = valid.total();
  o["train_bytes"] = train.total();
  o["sampling_bytes"] = sampling.total();
  return o;
}

}  // namespace esm::prep
