// Stage "attach": a distributed hash join of three tables, each spread over ranks by the hash
// of its key so no rank holds more than ~1/P of any of them:
//   membership pairs  (UniRef90 ID -> UniRef50 ID)   owner: hash(UniRef90 ID)
//   UniRef90 records  (UniRef90 ID -> record index)  owner: hash(UniRef90 ID)
//   UniRef50 records  (UniRef50 ID -> index, status) owner: hash(UniRef50 ID)
// The result goes back to the rank that read each UniRef90 record: the index of its train
// cluster, or "dropped" / "none". Records that cannot be placed are orphans (contract rule 4).
// Without a membership file the records are placed by clustering (attach_by_clustering).
#include <algorithm>
#include <unordered_map>

#include "cluster/assign_members.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "pipeline/counter_rng.hpp"
#include "pipeline/membership.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"
#include "pipeline/uniref50_walk.hpp"

namespace esm::prep {

namespace {

int owner(std::string_view id, int P) { return static_cast<int>(hash_bytes(id) % static_cast<uint64_t>(P)); }

std::vector<std::string> exchange(std::vector<Packer>& send) {
  std::vector<std::string> bufs(send.size());
  for (size_t r = 0; r < send.size(); ++r) bufs[r] = std::move(send[r].bytes());
  return mpi::alltoall_bytes(bufs);
}

struct Pair {
  std::string uniref50;
  uint64_t ordinal, line;
  bool used = false;
};

// Orphans are sorted by (group, index): group 0 = UniRef90 records (index = record index),
// group 1 = membership pairs without a sequence (index = position in the membership source).
struct Orphan {
  uint64_t group, index;
  std::string id, reason;
};

// Membership from a file: every rank streams it; `sink` sees each (UniRef90 ID, UniRef50 ID)
// pair in file order (which numbers the `no_sequence` orphans). Without a file, stage_attach
// places records by clustering instead (attach_by_clustering).
MembershipStats stream_membership(const PreprocessParams& p, const PairSink& sink) {
  if (p.membership.empty()) fail("no membership file (internal: clustering is used without one)");
  return read_membership(p.membership, sink);
}

struct OrphanCounts { uint64_t no_cluster = 0, no_sequence = 0, unknown = 0; };

// Orphans are few by nature: rank 0 sorts everyone's into their final order and writes them.
// Collective. Returns this rank's counts by reason.
OrphanCounts write_orphans(const Context& ctx, const std::vector<Orphan>& orphans) {
  Packer op;
  for (const auto& o : orphans) op.u64(o.group).u64(o.index).str(o.id).str(o.reason);
  std::vector<std::string> all = mpi::gather_bytes(op.bytes());
  OrphanCounts n;
  for (const auto& o : orphans) {
    if (o.reason == "no_cluster") ++n.no_cluster;
    else if (o.reason == "no_sequence") ++n.no_sequence;
    else ++n.unknown;
  }
  if (ctx.rank == 0) {
    std::vector<Orphan> everything;
    for (const auto& buf : all) {
      Unpacker u(buf);
      while (!u.done()) {
        Orphan o;
        o.group = u.u64();
        o.index = u.u64();
        o.id = u.str();
        o.reason = u.str();
        everything.push_back(std::move(o));
      }
    }
    std::sort(everything.begin(), everything.end(),
              [](const Orphan& a, const Orphan& b) { return std::tie(a.group, a.index) < std::tie(b.group, b.index); });
    RecordWriter w(ctx.work("orphans.zst"));
    for (const auto& o : everything) w.put(o.id + "\t" + o.reason + "\n");
    w.close();
  }
  return n;
}

// Every rank's global UniRef50 indices of one kind (validation or removed), sorted.
std::vector<uint64_t> all_indices(const std::vector<uint64_t>& mine) {
  Packer pk;
  for (uint64_t v : mine) pk.u64(v);
  std::vector<uint64_t> all;
  for (const auto& buf : mpi::allgather_bytes(pk.bytes())) {
    Unpacker u(buf);
    while (!u.done()) all.push_back(u.u64());
  }
  std::sort(all.begin(), all.end());
  return all;
}

// No membership file: each kept UniRef90 record joins the UniRef50 representative it matches
// best under the UniRef rule (esm::cluster::assign_to_representatives, collective). The
// assignment comes back per local record, so no join is needed; a member of a validation or
// removed cluster is dropped, one with no representative is a "no_cluster" orphan.
json::Value attach_by_clustering(Context& ctx) {
  const auto& p = ctx.params;
  auto load = [](const std::string& path, std::vector<std::string>& ids, std::vector<std::string>& seqs) {
    RecordReader in(path);
    std::string_view rec;
    while (in.next(rec)) {
      Unpacker u(rec);
      ids.emplace_back(u.str());
      seqs.emplace_back(u.str());
    }
  };
  std::vector<std::string> ids50, seqs50, ids90, seqs90;
  load(ctx.rank_work("u50.zst"), ids50, seqs50);
  load(ctx.rank_work("u90.zst"), ids90, seqs90);
  ids50.clear();
  std::vector<std::string_view> reps(seqs50.begin(), seqs50.end()), members(seqs90.begin(), seqs90.end());
  const auto params = cluster::uniref_membership_params();
  std::vector<cluster::Assignment> a = cluster::assign_to_representatives(reps, members, params, p.threads);
  ctx.kill_point("attach");

  const std::vector<uint64_t> valid = all_indices(read_u64_file(ctx.rank_work("valid.u64")));
  const std::vector<uint64_t> removed = all_indices(read_removed_indices(ctx));

  std::vector<uint64_t> assign(a.size(), kAssignNone);
  std::vector<Orphan> orphans;
  uint64_t to_train = 0, to_validation = 0, to_removed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const uint64_t idx = ctx.base90() + i;
    if (a[i].rep < 0) {
      orphans.push_back({0, idx, ids90[i], "no_cluster"});
      continue;
    }
    const auto rep = static_cast<uint64_t>(a[i].rep);
    if (std::binary_search(valid.begin(), valid.end(), rep)) { assign[i] = kAssignDropped; ++to_validation; }
    else if (std::binary_search(removed.begin(), removed.end(), rep)) { assign[i] = kAssignDropped; ++to_removed; }
    else { assign[i] = rep; ++to_train; }
  }
  write_u64_file(ctx.rank_work("assign.u64"), assign);
  OrphanCounts n = write_orphans(ctx, orphans);

  json::Value out;
  out["membership_format"] = "clustering";
  out["membership_method"] = cluster::membership_method(params);
  out["membership_pairs"] = mpi::allreduce_sum(to_train + to_validation + to_removed);
  out["members_in_train_clusters"] = mpi::allreduce_sum(to_train);
  out["members_dropped_validation"] = mpi::allreduce_sum(to_validation);
  out["members_dropped_removed"] = mpi::allreduce_sum(to_removed);
  out["members_dropped_short_cluster"] = uint64_t(0);
  out["orphans_no_cluster"] = mpi::allreduce_sum(n.no_cluster);
  out["orphans_no_sequence"] = uint64_t(0);
  out["orphans_unknown_cluster"] = uint64_t(0);
  log::info("attach (clustering): ", to_train, " members joined train clusters on this rank; ", orphans.size(),
            " orphans");
  return out;
}

}  // namespace

json::Value stage_attach(Context& ctx) {
  const auto& p = ctx.params;
  const int P = ctx.nranks;
  if (p.membership.empty()) return attach_by_clustering(ctx);

  // 1. Membership: every rank streams the source and keeps the pairs it owns.
  std::unordered_map<std::string, Pair> pairs;
  MembershipStats mstats = stream_membership(p, [&](const MembershipPair& m) {
    if (owner(m.uniref90, P) != ctx.rank) return;
    auto [it, fresh] = pairs.try_emplace(std::string(m.uniref90), Pair{std::string(m.uniref50), m.ordinal, m.line});
    if (!fresh && it->second.uniref50 != m.uniref50)
      fail(p.membership, ":", m.line, ": ", m.uniref90, " is a member of two clusters: ", it->second.uniref50,
           " (line ", it->second.line, ") and ", m.uniref50);
  });
  ctx.kill_point("attach");

  // 2. UniRef50 table at the owners of the UniRef50 IDs.
  std::vector<Packer> send(P);
  {
    Uniref50Walk walk(ctx, true);
    while (walk.next())
      send[owner(walk.id(), P)].str(walk.id()).u64(walk.index()).u64(static_cast<uint64_t>(walk.status()));
    RecordReader shorts(ctx.rank_work("u50short.zst"));
    std::string_view rec;
    while (shorts.next(rec)) {
      std::string_view id = Unpacker(rec).str();
      send[owner(id, P)].str(id).u64(0).u64(static_cast<uint64_t>(ClusterStatus::Short));
    }
  }
  struct Cluster { uint64_t index; ClusterStatus status; };
  std::unordered_map<std::string, Cluster> clusters;
  for (const auto& buf : exchange(send)) {
    Unpacker u(buf);
    while (!u.done()) {
      std::string id(u.str());
      uint64_t idx = u.u64();
      clusters[std::move(id)] = Cluster{idx, static_cast<ClusterStatus>(u.u64())};
    }
  }
  send.assign(P, Packer());

  // 3. UniRef90 records meet their membership pair at the owner of their ID. Records shorter
  // than --min-length take part (index kAssignNone) so their pair is not reported as orphan.
  constexpr uint64_t kShortRecord = ~uint64_t(0);
  {
    RecordReader in(ctx.rank_work("u90.zst"));
    std::string_view rec;
    for (uint64_t idx = ctx.base90(); in.next(rec); ++idx) {
      std::string_view id = Unpacker(rec).str();
      send[owner(id, P)].str(id).u64(idx);
    }
    RecordReader shorts(ctx.rank_work("u90short.zst"));
    while (shorts.next(rec)) {
      std::string_view id = Unpacker(rec).str();
      send[owner(id, P)].str(id).u64(kShortRecord);
    }
  }
  std::vector<Orphan> orphans;
  std::vector<Packer> to_cluster_owner(P);
  for (const auto& buf : exchange(send)) {
    Unpacker u(buf);
    while (!u.done()) {
      std::string_view id = u.str();
      uint64_t idx = u.u64();
      auto it = pairs.find(std::string(id));
      if (it == pairs.end()) {
        if (idx != kShortRecord) orphans.push_back({0, idx, std::string(id), "no_cluster"});
        continue;
      }
      it->second.used = true;
      if (idx == kShortRecord) continue;
      to_cluster_owner[owner(it->second.uniref50, P)].str(it->second.uniref50).str(id).u64(idx);
    }
  }
  for (const auto& [id, pr] : pairs)
    if (!pr.used) orphans.push_back({1, pr.ordinal, id, "no_sequence"});
  pairs.clear();
  send.assign(P, Packer());

  // 4. Pairs meet their cluster; answers go back to the rank that read the UniRef90 record.
  std::vector<uint64_t> base90(P, 0), kept90 = ctx.per_rank("read", "uniref90_kept");
  for (int r = 1; r < P; ++r) base90[r] = base90[r - 1] + kept90[r - 1];
  auto reader_of = [&](uint64_t idx) {
    return static_cast<int>(std::upper_bound(base90.begin() + 1, base90.end(), idx) - (base90.begin() + 1));
  };
  uint64_t to_train = 0, to_validation = 0, to_removed = 0, to_short = 0;
  for (const auto& buf : exchange(to_cluster_owner)) {
    Unpacker u(buf);
    while (!u.done()) {
      std::string_view u50 = u.str(), u90 = u.str();
      uint64_t idx = u.u64();
      auto it = clusters.find(std::string(u50));
      uint64_t assign;
      if (it == clusters.end()) {
        orphans.push_back({0, idx, std::string(u90), "unknown_cluster"});
        assign = kAssignNone;
      } else if (it->second.status == ClusterStatus::Train) {
        assign = it->second.index;
        ++to_train;
      } else {
        assign = kAssignDropped;
        if (it->second.status == ClusterStatus::Validation) ++to_validation;
        else if (it->second.status == ClusterStatus::Removed) ++to_removed;
        else ++to_short;
      }
      send[reader_of(idx)].u64(idx).u64(assign);
    }
  }
  clusters.clear();
  std::vector<uint64_t> assign(ctx.local90(), kAssignNone);
  for (const auto& buf : exchange(send)) {
    Unpacker u(buf);
    while (!u.done()) {
      uint64_t idx = u.u64();
      assign.at(idx - ctx.base90()) = u.u64();
    }
  }
  write_u64_file(ctx.rank_work("assign.u64"), assign);

  // 5. Orphans.
  OrphanCounts n = write_orphans(ctx, orphans);
  json::Value out;
  out["membership_format"] = mstats.format;
  out["membership_entries"] = mstats.entries;
  out["membership_pairs"] = mstats.pairs;
  if (mstats.members_without_uniref90_id)
    out["membership_members_without_uniref90_id"] = mstats.members_without_uniref90_id;
  out["members_in_train_clusters"] = mpi::allreduce_sum(to_train);
  out["members_dropped_validation"] = mpi::allreduce_sum(to_validation);
  out["members_dropped_removed"] = mpi::allreduce_sum(to_removed);
  out["members_dropped_short_cluster"] = mpi::allreduce_sum(to_short);
  out["orphans_no_cluster"] = mpi::allreduce_sum(n.no_cluster);
  out["orphans_no_sequence"] = mpi::allreduce_sum(n.no_sequence);
  out["orphans_unknown_cluster"] = mpi::allreduce_sum(n.unknown);
  log::info("attach: ", to_train, " members joined train clusters on this rank; ", orphans.size(), " orphans");
  return out;
}

}  // namespace esm::prep
