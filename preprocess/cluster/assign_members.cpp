#include "cluster/assign_members.hpp"

#include <algorithm>

#include "cluster/kmer_groups.hpp"
#include "cluster/partition.hpp"
#include "cluster/sequence_fetch.hpp"
#include "cluster/verify.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/progress.hpp"

namespace esm::cluster {

std::vector<Assignment> assign_to_representatives(const std::vector<io::FastaRecord>& reps,
                                                  const std::vector<io::FastaRecord>& members,
                                                  const align::SearchParams& params, int threads,
                                                  const AssignOptions& options) {
  std::vector<std::string_view> r(reps.size()), m(members.size());
  for (size_t i = 0; i < reps.size(); ++i) r[i] = reps[i].seq;
  for (size_t i = 0; i < members.size(); ++i) m[i] = members[i].seq;
  return assign_to_representatives(r, m, params, threads, options);
}

std::vector<Assignment> assign_to_representatives(const std::vector<std::string_view>& reps,
                                                  const std::vector<std::string_view>& members,
                                                  const align::SearchParams& params, int threads,
                                                  const AssignOptions& options) {
  align::validate(params);
  const int me = mpi::rank();
  Partition rep_part = make_partition(reps.size());
  Partition member_part = make_partition(members.size());
  const uint64_t first_rep = rep_part.first(me), first_member = member_part.first(me);
  uint64_t local_residues = 0;
  for (auto s : members) local_residues += s.size();
  const uint64_t db_residues = mpi::allreduce_sum(local_residues);

  std::vector<Assignment> out(members.size());
  uint64_t aligned = 0, accepted = 0;
  for (size_t pass = 0; pass < options.passes.size(); ++pass) {
    // Members still unplaced (all of them in the first pass).
    SequenceSet todo{{}, 0, 0, {}};
    for (size_t i = 0; i < members.size(); ++i)
      if (out[i].rep < 0) {
        todo.seqs.push_back(members[i]);
        todo.gids.push_back(first_member + i);
      }
    if (mpi::allreduce_sum(uint64_t(todo.seqs.size())) == 0) break;
    std::vector<KmerTuple> tuples =
        route_kmers({std::move(todo), SequenceSet{reps, first_rep, 1, {}}}, options.passes[pass], threads);
    std::vector<Pair> pairs = representative_pairs(tuples, options.max_reps_per_group, threads);
    std::vector<KmerTuple>().swap(tuples);
    pairs = route_pairs_to_members(pairs, member_part, threads);

    std::vector<uint64_t> wanted;
    wanted.reserve(pairs.size());
    for (const Pair& p : pairs) wanted.push_back(p.center);
    SequenceCache rep_seqs = fetch_sequences(std::move(wanted), rep_part, reps);

    // Sorted by representative so each thread builds a representative's profile once.
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
      return a.center != b.center ? a.center < b.center : a.member < b.member;
    });
    auto member_seq = [&](uint64_t gid) { return members[gid - first_member]; };
    auto rep_seq = [&](uint64_t gid) { return rep_seqs.get(gid); };
    Progress progress(str("assignment pass ", pass + 1, ": aligning candidates"), pairs.size(), "pairs");
    std::vector<PairResult> res = align_pairs(pairs, rep_seq, member_seq, params, db_residues, threads, &progress);
    progress.finish();
    aligned += pairs.size();
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (!res[i].accepted) continue;
      ++accepted;
      Assignment& a = out[pairs[i].member - first_member];
      int64_t rep = int64_t(pairs[i].center);
      if (a.rep < 0 || res[i].fident > a.identity || (res[i].fident == a.identity && rep < a.rep)) {
        a.rep = rep;
        a.identity = res[i].fident;
      }
    }
  }
  uint64_t placed = 0;
  for (const Assignment& a : out) placed += a.rep >= 0;
  log::info("assign: ", members.size(), " members, ", aligned, " candidate pairs aligned, ", accepted,
            " accepted, ", placed, " members placed");
  return out;
}

std::string membership_method(const align::SearchParams& p, const AssignOptions& o) {
  std::string passes;
  for (const KmerParams& k : o.passes) passes += str(passes.empty() ? "" : ", then ", k.per_seq, " k-mers/sequence k=", k.k);
  return str("alignment (esmpipe cluster assign_to_representatives): best-identity UniRef50 representative with min_seq_id ",
             p.min_seq_id, ", coverage ", p.coverage, " (cov_mode ", p.cov_mode, "), seq_id_mode ", p.seq_id_mode,
             ", evalue ", p.evalue, "; candidates from ", passes,
             " (12-letter reduced alphabet), up to ", o.max_reps_per_group, " representatives per k-mer group");
}

}  // namespace esm::cluster
