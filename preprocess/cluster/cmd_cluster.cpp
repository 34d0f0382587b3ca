// esmpipe cluster: linear-time clustering of any protein FASTA (linclust.hpp) with MMseqs2's
// parameter names and its _cluster.tsv output, plus a representatives FASTA.
#include <chrono>
#include <string>

#include "align/search_params.hpp"
#include "cluster/assign_members.hpp"
#include "cluster/cluster_output.hpp"
#include "cluster/sequence_fetch.hpp"
#include "cluster/linclust.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "io/fasta.hpp"

namespace esm {

namespace {

// This rank's contiguous run of records (collective).
std::vector<io::FastaRecord> read_shard(const std::string& path) {
  std::vector<io::FastaRecord> records;
  io::ShardReader reader(path);
  io::FastaRecord rec;
  Progress progress("reading " + path, 0, "seqs");
  while (reader.next(rec)) {
    progress.add(1, rec.seq.size());
    records.push_back(std::move(rec));
    rec = io::FastaRecord{};
  }
  progress.finish();
  return records;
}

int run_assign(const std::vector<io::FastaRecord>& members, const std::vector<io::FastaRecord>& reps,
               const cluster::ClusterOptions& co, bool per_seq_given, const std::string& out,
               std::chrono::steady_clock::time_point start) {
  cluster::AssignOptions ao;
  // -k / --kmers-per-seq given: one pass with them; else the default passes.
  if (per_seq_given) ao.passes = {co.kmers};
  log::info0(cluster::membership_method(co.search, ao));
  std::vector<cluster::Assignment> a = cluster::assign_to_representatives(reps, members, co.search, co.threads, ao);
  // Representative IDs come from the ranks that hold them.
  cluster::Partition rep_part = cluster::make_partition(reps.size());
  std::vector<uint64_t> wanted;
  for (const auto& x : a)
    if (x.rep >= 0) wanted.push_back(uint64_t(x.rep));
  std::vector<std::string_view> rep_ids(reps.size());
  for (size_t i = 0; i < reps.size(); ++i) rep_ids[i] = reps[i].id;
  cluster::SequenceCache names = cluster::fetch_sequences(wanted, rep_part, rep_ids);
  std::string text = mpi::is_root() ? "uniref90_id\tuniref50_id\n" : "";
  uint64_t placed = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    if (a[i].rep < 0) continue;
    ++placed;
    text += members[i].id;
    text += '\t';
    text += names.get(uint64_t(a[i].rep));
    text += '\n';
  }
  cluster::write_ordered(out, text);
  uint64_t total = mpi::allreduce_sum(uint64_t(members.size()));
  placed = mpi::allreduce_sum(placed);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info0(str(placed, " of ", total, " sequences placed under a representative in ", human_duration(secs), "; wrote ", out));
  return kExitOk;
}

}  // namespace

int cmd_cluster(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description opts("esmpipe cluster options");
  std::string in, out, reps, kmer_len, assign_to;
  cluster::ClusterOptions co;
  bool overwrite = false;
  opts.add_options()
      ("in", po::value(&in)->required(), "input FASTA (plain, .gz or .zst)")
      ("out", po::value(&out)->required(), "clusters TSV: rep<TAB>member per sequence (MMseqs2 _cluster.tsv)")
      ("reps", po::value(&reps), "also write the representatives as FASTA")
      ("assign-to", po::value(&assign_to), "instead of clustering, attach each --in sequence to its best representative in this FASTA "
                                           "(UniRef rule with the defaults); --out gets 'uniref90_id<TAB>uniref50_id' lines (the "
                                           "--membership TSV of esmpipe preprocess), unplaced sequences left out")
      ("min-seq-id", po::value(&co.search.min_seq_id)->default_value(0.5), "minimum sequence identity of a member to its representative")
      ("coverage,c", po::value(&co.search.coverage)->default_value(0.8), "minimum coverage (see --cov-mode)")
      ("cov-mode", po::value(&co.search.cov_mode)->default_value(1), "0 both, 1 member (target), 2 representative (query), 3-5 length rules, as MMseqs2")
      ("seq-id-mode", po::value(&co.search.seq_id_mode)->default_value(0), "identity denominator: 0 alignment columns, 1 shorter, 2 longer")
      (",e", po::value(&co.search.evalue)->default_value(1e-3), "maximum E-value (against the whole input)")
      ("kmers-per-seq", po::value(&co.kmers.per_seq)->default_value(25), "k-mers kept per sequence (more finds more pairs, costs linearly)")
      ("kmer-len,k", po::value(&kmer_len)->default_value("auto"), "k-mer length in the 12-letter reduced alphabet (5..17) or auto")
      ("identity-gate", po::value(&co.identity_gate)->default_value(cluster::kDefaultIdentityGate, "3.0"),
       "reject a candidate pair unaligned when the ungapped segments on its 3 diagonals with most shared 3-mers sum to less "
       "than this many half bits per identical residue the rules require (a heuristic like linclust's ungapped prefilter: "
       "it can only drop pairs, never accept one); 0: align every candidate. Off below --min-seq-id 0.4")
      ("threads", po::value(&co.threads)->default_value(0), "threads per rank (0: this rank's share of the cores)")
      ("overwrite", po::bool_switch(&overwrite), "replace existing outputs");
  po::variables_map vm;
  if (!cli::parse(argc, argv, {"cluster", "esmpipe cluster --in FILE --out clusters.tsv [--reps reps.fasta] [options]",
                               "Cluster protein sequences (linear-time, MMseqs2 linclust style) over MPI ranks."},
                  opts, {}, vm))
    return kExitOk;
  align::validate(co.search);
  if (kmer_len == "auto") {
    co.kmers.k = cluster::auto_kmer_length(co.search.min_seq_id);
  } else {
    try {
      size_t used = 0;
      co.kmers.k = std::stoi(kmer_len, &used);
      if (used != kmer_len.size()) throw std::invalid_argument(kmer_len);
    } catch (const std::exception&) {
      fail("-k: expected a number or 'auto', got '", kmer_len, "'");
    }
    if (co.kmers.k < 5 || co.kmers.k > 17) fail("-k ", co.kmers.k, ": must be between 5 and 17");
  }
  if (co.kmers.per_seq < 1 || co.kmers.per_seq > 1000) fail("--kmers-per-seq ", co.kmers.per_seq, ": must be between 1 and 1000");
  if (!(co.identity_gate >= 0)) fail("--identity-gate ", co.identity_gate, ": must be >= 0");
  if (co.threads < 0) fail("--threads ", co.threads, ": must be >= 0");
  if (co.threads == 0) co.threads = cli::default_threads();
  if (!reps.empty() && reps == out) fail("--reps and --out name the same file '", out, "'");
  if (!assign_to.empty() && !reps.empty()) fail("--reps does not apply to --assign-to");
  check_can_write(out, overwrite);
  if (!reps.empty()) check_can_write(reps, overwrite);

  const auto start = std::chrono::steady_clock::now();
  std::vector<io::FastaRecord> records = read_shard(in);
  if (!assign_to.empty()) return run_assign(records, read_shard(assign_to), co, !vm["kmers-per-seq"].defaulted() || !vm["kmer-len"].defaulted(), out, start);
  cluster::Partition part = cluster::make_partition(records.size());
  if (part.total() == 0) fail(in, ": no sequences");
  std::vector<std::string_view> seqs(records.size());
  for (size_t i = 0; i < records.size(); ++i) seqs[i] = records[i].seq;
  log::info0(str("clustering ", part.total(), " sequences on ", mpi::size(), " rank(s) x ", co.threads,
                 " thread(s): k=", co.kmers.k, ", ", co.kmers.per_seq, " k-mers/sequence, min-seq-id ",
                 co.search.min_seq_id, ", coverage ", co.search.coverage, " (cov-mode ", co.search.cov_mode, ")"));

  cluster::ClusterStats stats;
  std::vector<uint64_t> rep_of = cluster::linclust(seqs, part, co, stats);
  log::info("rank ", mpi::rank(), ": ", records.size(), " sequences, ", stats.kmers, " k-mer tuples, ", stats.pairs,
            " candidate pairs, ", stats.aligned, " decided, ", stats.accepted, " accepted; checked ", stats.checked,
            " pairs (", stats.gated, " rejected by the identity gate); k-mers ", stats.seconds_kmers, " s, pairs ", stats.seconds_pairs, " s, fetch ", stats.seconds_fetch,
            " s, greedy ", stats.seconds_greedy, " s (", stats.steps, " steps; deciding pairs ", stats.seconds_verify,
            " s: identity gate ", stats.seconds_gate, " s, alignments ", stats.seconds_align, " s; exchanging statuses ",
            stats.seconds_wait, " s)");

  uint64_t clusters = cluster::write_cluster_tsv(out, records, part, rep_of);
  if (!reps.empty()) cluster::write_representatives(reps, records, part, rep_of);
  uint64_t aligned = mpi::allreduce_sum(stats.aligned);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info0(str(part.total(), " sequences -> ", clusters, " clusters (", aligned, " alignments) in ",
                 human_duration(secs), "; wrote ", out, reps.empty() ? "" : " and " + reps));
  return kExitOk;
}

}  // namespace esm
