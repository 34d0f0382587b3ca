// Stage "read": each rank reads its contiguous shard of the UniRef50 and UniRef90 FASTA files
// (src/io validates residues and compression), drops records shorter than --min-length, and
// writes its records to a work file. Duplicate IDs are found by sending every ID to the rank
// that owns its hash, so no rank holds more than about 1/P of the IDs.
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/progress.hpp"
#include "io/fasta.hpp"
#include "pipeline/counter_rng.hpp"
#include "pipeline/file_digests.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"

namespace esm::prep {

namespace {

struct ReadCounts {
  uint64_t read = 0, kept = 0, short_ = 0, residues = 0;
};

// Streams this rank's shard of `path` into work files; fills `ids` with (id, ordinal, offset)
// messages for the duplicate check, one buffer per owner rank.
ReadCounts read_shard(const std::string& path, const std::string& work, const std::string& short_work,
                      uint64_t min_length, std::vector<Packer>& ids, const std::string& what) {
  ReadCounts c;
  io::ShardReader reader(path);
  RecordWriter kept(work), dropped(short_work);
  Progress progress(str("read ", what), 0, "records");
  io::FastaRecord rec;
  Packer p;
  const int P = mpi::size();
  while (reader.next(rec)) {
    ids[hash_bytes(rec.id) % P].str(rec.id).u64(c.read).u64(rec.offset);
    ++c.read;
    p.clear();
    if (rec.seq.size() < min_length) {
      ++c.short_;
      dropped.put(p.str(rec.id));
    } else {
      ++c.kept;
      c.residues += rec.seq.size();
      kept.put(p.str(rec.id).str(rec.seq));
    }
    progress.add(1, rec.seq.size());
  }
  progress.finish();
  kept.close();
  dropped.close();
  return c;
}

// Every ID goes to its owner rank; an ID seen twice is an error naming both records.
void check_duplicates(const std::string& path, std::vector<Packer>& ids, uint64_t local_read) {
  const int P = mpi::size();
  std::vector<uint64_t> read_per_rank = mpi::allgather(local_read);
  std::vector<uint64_t> base(P, 0);
  for (int r = 1; r < P; ++r) base[r] = base[r - 1] + read_per_rank[r - 1];
  std::vector<std::string> send(P);
  for (int r = 0; r < P; ++r) send[r] = std::move(ids[r].bytes());
  std::vector<std::string> got = mpi::alltoall_bytes(send);
  send.clear();
  struct Seen { uint64_t record, offset; };
  std::unordered_map<std::string, Seen> seen;
  std::string message;
  for (int r = 0; r < P && message.empty(); ++r) {
    Unpacker u(got[r]);
    while (!u.done()) {
      std::string_view id = u.str();
      uint64_t record = base[r] + u.u64() + 1, offset = u.u64();
      auto [it, fresh] = seen.try_emplace(std::string(id), Seen{record, offset});
      if (!fresh) {
        Seen a = it->second, b{record, offset};
        if (b.record < a.record) std::swap(a, b);
        message = str(path, ": duplicate ID ", id, ": record ", a.record, " (byte ", a.offset, ") and record ",
                      b.record, " (byte ", b.offset, ") both use it");
        break;
      }
    }
  }
  // Every rank learns whether some rank found a duplicate, so all stop together.
  bool ok = mpi::all_true(message.empty());
  if (!message.empty()) fail(message);
  if (!ok) {
    mpi::barrier();  // the rank that found it aborts everyone with its message
    fail("duplicate IDs found by another rank");
  }
}

}  // namespace

json::Value stage_read(Context& ctx) {
  const auto& p = ctx.params;
  const int P = ctx.nranks;
  std::vector<Packer> ids50(P), ids90(P);
  ReadCounts c50 = read_shard(p.uniref50, ctx.rank_work("u50.zst"), ctx.rank_work("u50short.zst"), p.min_length,
                              ids50, "UniRef50");
  check_duplicates(p.uniref50, ids50, c50.read);
  ctx.kill_point("read");
  ReadCounts c90 = read_shard(p.uniref90, ctx.rank_work("u90.zst"), ctx.rank_work("u90short.zst"), p.min_length,
                              ids90, "UniRef90");
  check_duplicates(p.uniref90, ids90, c90.read);

  // Input fingerprints, hashed by the ranks in parallel.
  // No membership file (clustering): only the two FASTA inputs.
  std::vector<std::string> inputs = {p.uniref50, p.uniref90};
  if (!p.membership.empty()) inputs.push_back(p.membership);
  const std::vector<std::string> sha = sha256_files_collective(inputs);
  json::Value input_list = json::Array{};
  const char* roles[] = {"uniref50", "uniref90", "membership"};
  for (size_t i = 0; i < inputs.size(); ++i) {
    json::Value e = Manifest::file_entry(inputs[i], false);
    e["role"] = roles[i];
    e["sha256"] = sha[i];
    input_list.push_back(e);
  }
  ctx.manifest["inputs"] = input_list;

  json::Value out;
  out["uniref50_records"] = mpi::allreduce_sum(c50.read);
  out["uniref50_kept"] = mpi::allreduce_sum(c50.kept);
  out["uniref50_shorter_than_min_length"] = mpi::allreduce_sum(c50.short_);
  out["uniref50_residues"] = mpi::allreduce_sum(c50.residues);
  out["uniref90_records"] = mpi::allreduce_sum(c90.read);
  out["uniref90_kept"] = mpi::allreduce_sum(c90.kept);
  out["uniref90_shorter_than_min_length"] = mpi::allreduce_sum(c90.short_);
  out["uniref90_residues"] = mpi::allreduce_sum(c90.residues);
  json::Value per_rank;
  json::Value k50 = json::Array{}, k90 = json::Array{};
  for (uint64_t v : mpi::allgather(c50.kept)) k50.push_back(v);
  for (uint64_t v : mpi::allgather(c90.kept)) k90.push_back(v);
  per_rank["uniref50_kept"] = k50;
  per_rank["uniref90_kept"] = k90;
  out["per_rank"] = per_rank;
  if (out.at("uniref50_kept").as_int() == 0) fail(p.uniref50, ": no UniRef50 records (after --min-length)");
  log::info("read: ", c50.kept, " UniRef50 and ", c90.kept, " UniRef90 records kept on this rank (",
            c50.short_ + c90.short_, " shorter than --min-length)");
  return out;
}

}  // namespace esm::prep
