// Stages "crop" and "order". crop: every record that goes to the sampling FASTA is cropped and
// keyed by its final position -- (cluster index, 0) for the representative, (cluster index,
// 1 + UniRef90 index) for a member -- so order needs no other information. order: a sample
// sort (sample_sort.hpp) brings each cluster's records to one rank, in final order.
#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "pipeline/counter_rng.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"
#include "pipeline/uniref50_walk.hpp"
#include "pipeline/sample_sort.hpp"

namespace esm::prep {

std::string_view crop(const PreprocessParams& p, std::string_view seq, uint64_t index, bool uniref90) {
  if (p.max_residues == 0 || seq.size() <= p.max_residues) return seq;
  uint64_t start = 0;
  if (p.crop == "random") {
    uint64_t h = counter_hash(p.seed, uniref90 ? RngStream::kCropUniRef90 : RngStream::kCropUniRef50, index);
    start = uniform_below(h, seq.size() - p.max_residues + 1);
  }
  return seq.substr(start, p.max_residues);
}

namespace {
// Histogram resolution for the splitters: enough buckets that one bucket is a small part of a
// rank's share.
uint64_t bucket_width(uint64_t n50, int P) {
  uint64_t buckets = std::max<uint64_t>(1, std::min<uint64_t>(n50, 1024 * static_cast<uint64_t>(P)));
  return (n50 + buckets - 1) / buckets;
}
}  // namespace

json::Value stage_crop(Context& ctx) {
  const auto& p = ctx.params;
  const uint64_t n50 = ctx.total50(), width = bucket_width(n50, ctx.nranks);
  std::vector<uint64_t> hist((n50 + width - 1) / width, 0);
  RecordWriter out(ctx.rank_work("keyed.zst"));
  Packer pk;
  uint64_t reps = 0, members = 0, cropped = 0;
  {
    Uniref50Walk walk(ctx, true);
    while (walk.next()) {
      if (walk.status() != ClusterStatus::Train) continue;
      const uint64_t idx = walk.index();
      std::string_view id = walk.id(), seq = walk.seq(), c = crop(p, seq, idx, false);
      cropped += c.size() < seq.size();
      pk.clear();
      out.put(pk.u64(idx).u64(0).str(id).str(c));
      hist[idx / width] += pk.bytes().size();
      ++reps;
    }
  }
  ctx.kill_point("crop");
  {
    std::vector<uint64_t> assign = read_u64_file(ctx.rank_work("assign.u64"));
    RecordReader in(ctx.rank_work("u90.zst"));
    std::string_view rec;
    for (uint64_t i = 0; in.next(rec); ++i) {
      uint64_t cluster = assign.at(i);
      if (cluster == kAssignDropped || cluster == kAssignNone) continue;
      uint64_t idx = ctx.base90() + i;
      Unpacker u(rec);
      std::string_view id = u.str(), seq = u.str(), c = crop(p, seq, idx, true);
      cropped += c.size() < seq.size();
      pk.clear();
      out.put(pk.u64(cluster).u64(1 + idx).str(id).str(c));
      hist[cluster / width] += pk.bytes().size();
      ++members;
    }
  }
  out.close();
  write_u64_file(ctx.rank_work("hist.u64"), hist);
  json::Value o;
  o["train_representatives"] = mpi::allreduce_sum(reps);
  o["train_members"] = mpi::allreduce_sum(members);
  o["sequences_cropped"] = mpi::allreduce_sum(cropped);
  return o;
}

json::Value stage_order(Context& ctx) {
  const uint64_t n50 = ctx.total50(), width = bucket_width(n50, ctx.nranks);
  std::vector<uint64_t> hist = read_u64_file(ctx.rank_work("hist.u64"));
  std::vector<uint64_t> bounds = choose_splitters(hist, width, n50);
  SortStats s = sample_sort(ctx.rank_work("keyed.zst"), ctx.rank_work("sorted.zst"), bounds, ctx.params.memory_limit,
                            ctx.rank_work("spill"));
  ctx.kill_point("order");
  log::info("order: ", s.records, " records (", s.bytes, " bytes) in clusters [", bounds[ctx.rank], ", ",
            bounds[ctx.rank + 1], "), ", s.rounds, " exchange rounds, ", s.runs_spilled, " runs spilled");
  json::Value o;
  o["exchange_rounds"] = s.rounds;
  o["runs_spilled"] = mpi::allreduce_sum(s.runs_spilled);
  json::Value per_rank;
  json::Value recs = json::Array{};
  for (uint64_t v : mpi::allgather(s.records)) recs.push_back(v);
  per_rank["records"] = recs;
  o["per_rank"] = per_rank;
  return o;
}

}  // namespace esm::prep
