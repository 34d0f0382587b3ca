// `esmpipe filter`: remove train (query) sequences that match a validation (target) sequence
// under MMseqs2's rules. Every rank indexes all targets and searches its contiguous shard of
// the queries; rank 0 gathers the rows in rank (= query) order and writes them atomically.
#include <cstdio>

#include "align/search_params.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "filter/identity_filter.hpp"
#include "filter/output.hpp"
#include "io/fasta.hpp"

namespace esm {

int cmd_filter(int argc, char** argv) {
  namespace po = cli::po;
  std::string query, target, out, all_hits_path;
  align::SearchParams p;
  filter::FilterOptions fo;
  int threads = 0;
  size_t batch = 20000;
  bool overwrite = false;
  po::options_description opts("filter options");
  opts.add_options()
      ("query", po::value(&query)->required(), "train FASTA (plain, .gz, .zst): the sequences that may be removed")
      ("target", po::value(&target)->required(), "validation FASTA: indexed on every rank")
      ("out", po::value(&out)->required(), "removed.tsv: train_id, val_id, identity, qcov, tcov, evalue (first accepted hit per removed query)")
      ("min-seq-id", po::value(&p.min_seq_id)->default_value(0.5), "minimum sequence identity (MMseqs2 --min-seq-id)")
      ("coverage,c", po::value(&p.coverage)->default_value(0.8, "0.8"), "minimum coverage (MMseqs2 -c)")
      ("cov-mode", po::value(&p.cov_mode)->default_value(0), "0 both, 1 target, 2 query, 3 tlen>=c*qlen, 4 qlen>=c*tlen, 5 shorter>=c*longer")
      ("seq-id-mode", po::value(&p.seq_id_mode)->default_value(0), "identity denominator: 0 alignment columns, 1 shorter, 2 longer sequence")
      ("evalue,e", po::value(&p.evalue)->default_value(1e-3, "1e-3"), "maximum E-value (target set size as the database)")
      ("threads", po::value(&threads)->default_value(0), "worker threads per rank (0: this rank's share of the cores)")
      ("all-hits", po::value(&all_hits_path), "also write every accepted pair, BLAST-tab columns without header: query target fident alnlen qstart qend qlen tstart tend tlen evalue bits")
      ("batch", po::value(&batch)->default_value(20000), "queries read and searched at a time per rank (memory stays flat in the train size)")
      ("seed", po::value(&fo.seed), "spaced seed mask on the 10-letter alphabet (default: 1101011, or 11011011 above 1e7 target residues)")
      ("min-ungapped-score", po::value(&fo.min_ungapped_bits)->default_value(15), "ungapped diagonal gate in bits (MMseqs2 --min-ungapped-score)")
      ("identity-gate", po::value(&fo.identity_gate)->default_value(0.4, "0.4"), "summed ungapped diagonal score (half bits) a target needs per identical residue the rules require before it is aligned; 0: off (always off below --min-seq-id 0.4)")
      ("single-hit-below", po::value(&fo.single_hit_below)->default_value(120), "queries shorter than this become candidates with one seed hit instead of two")
      ("overwrite", po::bool_switch(&overwrite), "replace existing output files");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!cli::parse(argc, argv,
                  {"filter", "esmpipe filter --query train.fasta --target valid.fasta --out removed.tsv [options]",
                   "remove train sequences >= min-seq-id identical to a validation sequence (MMseqs2 semantics)"},
                  opts, pos, vm))
    return kExitOk;
  align::validate(p);
  if (batch == 0) fail("--batch must be > 0");
  if (threads <= 0) threads = cli::default_threads();
  if (mpi::is_root()) {
    check_can_write(out, overwrite);
    if (!all_hits_path.empty()) check_can_write(all_hits_path, overwrite);
  }
  mpi::barrier();

  auto targets = io::read_all(target);
  if (targets.empty()) fail(target, ": no target sequences");
  filter::IdentityFilter filt(std::move(targets), p, threads, fo);
  log::info0(str("filter: ", filt.targets().size(), " targets, ", filt.index().residues(), " residues, index ",
             human_bytes(double(filt.index().index_bytes())), " (seed ", filt.index().seed().mask, "), ", threads,
             " threads per rank, ", mpi::size(), " ranks"));

  // Count this rank's shard first so progress can show an ETA.
  uint64_t local_queries = 0;
  {
    io::ShardReader counter(query);
    io::FastaRecord rec;
    while (counter.next(rec)) ++local_queries;
  }
  Progress progress("filter", local_queries, "queries");
  filt.set_progress(&progress);

  io::ShardReader reader(query);
  std::string removed_rows, all_rows;
  std::vector<io::FastaRecord> chunk;
  io::FastaRecord rec;
  bool more = true;
  while (more) {
    chunk.clear();
    while (chunk.size() < batch && (more = reader.next(rec))) chunk.push_back(std::move(rec));
    if (chunk.empty()) break;
    const bool want_all = !all_hits_path.empty();
    const auto hits = filt.search(chunk, want_all);
    filter::append_rows(hits, removed_rows, want_all ? &all_rows : nullptr);
  }
  progress.finish();
  const auto& st = filt.stats();
  log::info("filter: rank searched ", st.queries, " queries (", st.residues, " residues): ", st.seed_hits,
            " seed hits, ", st.candidates, " diagonals tested, ", st.ungapped_pass, " targets past the ungapped and identity gates, ",
            st.aligned, " SIMD scores, ", st.tracebacks, " tracebacks, ", st.accepted, " removed");

  const auto removed_parts = mpi::gather_bytes(removed_rows);
  std::vector<std::string> all_parts;
  if (!all_hits_path.empty()) all_parts = mpi::gather_bytes(all_rows);
  const uint64_t total_removed = mpi::allreduce_sum(st.accepted);
  const uint64_t total_queries = mpi::allreduce_sum(st.queries);
  if (mpi::is_root()) {
    AtomicFile f(out, overwrite);
    f.stream() << filter::kRemovedHeader;
    for (const auto& part : removed_parts) f.stream() << part;
    f.commit();
    if (!all_hits_path.empty()) {
      AtomicFile a(all_hits_path, overwrite);
      for (const auto& part : all_parts) a.stream() << part;
      a.commit();
    }
    log::info0(str("filter: removed ", total_removed, " of ", total_queries, " queries -> ", out));
  }
  mpi::barrier();
  return kExitOk;
}

}  // namespace esm
