// esmpipe embed: FASTA -> one parallel HDF5 embedding store (/work/shared/docs/embedding-store.md).
//
// Phases, all ranks together:
//   1. length pass: each rank reads its shard of the FASTA; every rank learns each sequence's
//      kept length and record offset (12 bytes each), nothing more; IDs are checked for
//      duplicates by hash partition (store/duplicate_ids.hpp) and reach rank 0 only when it
//      creates the store; residues stay in the input (plain) or a stage (compressed), see
//      store/residue_source.hpp;
//   2. layout: row offsets from the lengths; rank 0 takes the lock and creates (or, for
//      --resume, checks) the store's structure;
//   3. embed: length-sorted batches of the sequences not yet done, handed out by a shared
//      counter (store/work_counter.hpp); a rank reads the residues of the batch it is handed,
//      and its writer thread puts rows in place. With --tensor-parallel N, groups of N
//      consecutive ranks (parallel/tp_group.hpp) share each batch: the group's tp_rank 0 takes
//      it from the counter and tells the group, every rank of the group computes its slice of
//      every layer, and only tp_rank 0 hands the rows to its writer (the others' writers still
//      join every collective write round, with nothing to write);
//   4. finish: rank 0 sets `complete` when every sequence is done and prints per-rank figures.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "cuda/cuda_backend.hpp"
#include "encoder/backend.hpp"
#include "encoder/model.hpp"
#include "encoder/tokenizer.hpp"
#include "hdf5/hdf5w.hpp"
#include "io/fasta.hpp"
#include "parallel/cpu_tp_backend.hpp"
#include "parallel/tp_group.hpp"
#include "store/layout.hpp"
#include "store/lock.hpp"
#include "store/disk_space.hpp"
#include "store/duplicate_ids.hpp"
#include "store/input_digest.hpp"
#include "store/residue_source.hpp"
#include "store/signals.hpp"
#include "store/store_file.hpp"
#include "store/work_counter.hpp"
#include "store/writer.hpp"

namespace esm {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Args {
  std::string model, fasta, out, device, layers, dtype, compression, precision;
  bool per_residue = false, mean = false, logits = false, contacts = false, overwrite = false, resume = false;
  int64_t max_tokens = 0;
  double sync_seconds = -1;
  int max_residues = 0, threads = 0, tensor_parallel = 1;
};

// What every rank knows about every sequence after the length pass: its kept length (for the
// layout and the batch plan) and where its record starts in the uncompressed input (to fetch
// its residues when a batch holds it). IDs and residues stay with the rank that read them.
struct Catalog {
  std::vector<int32_t> kept;       // residues kept (after --max-residues)
  std::vector<uint64_t> offset;    // uncompressed byte offset of the record's '>'
  uint64_t truncated = 0;          // sequences longer than --max-residues
  std::string input_digest;        // store/input_digest.hpp
  std::vector<std::string> my_ids; // this rank's IDs, in order (freed once the store exists)
  uint64_t my_first = 0;           // global index of my_ids[0]
};

// Collective: reads this rank's shard once; residues go only to the stage (compressed input).
Catalog read_catalog(const std::string& path, int max_residues, store::ResidueSource& residues) {
  io::ShardReader reader(path);  // collective
  Catalog c;
  store::InputDigest digest;
  std::string mine;  // (kept int32, offset uint64) per record, for the allgather
  io::FastaRecord rec;
  uint64_t my_truncated = 0;
  while (reader.next(rec)) {
    digest.add(rec.id, rec.seq);
    residues.add(rec.offset, rec.seq);
    int32_t kept = static_cast<int32_t>(std::min<uint64_t>(rec.seq.size(), uint64_t(max_residues)));
    my_truncated += rec.seq.size() > uint64_t(max_residues);
    mine.append(reinterpret_cast<const char*>(&kept), 4);
    mine.append(reinterpret_cast<const char*>(&rec.offset), 8);
    c.my_ids.push_back(std::move(rec.id));
  }
  residues.seal();
  c.input_digest = digest.finish(mpi::comm());
  c.my_first = mpi::exscan_sum(c.my_ids.size());
  c.truncated = mpi::allreduce_sum(my_truncated);
  const uint64_t n = mpi::allreduce_sum(uint64_t(c.my_ids.size()));
  c.kept.reserve(n);
  c.offset.reserve(n);
  for (const auto& part : mpi::allgather_bytes(mine)) {
    for (size_t p = 0; p + 12 <= part.size(); p += 12) {
      int32_t kept;
      uint64_t offset;
      std::memcpy(&kept, part.data() + p, 4);
      std::memcpy(&offset, part.data() + p + 4, 8);
      c.kept.push_back(kept);
      c.offset.push_back(offset);
    }
  }
  return c;
}

// Collective: every ID, in input order, on rank 0 only (creating the store writes /sequences/id
// and /index there); other ranks get an empty list.
std::vector<std::string> gather_ids(const std::vector<std::string>& mine) {
  std::string text;
  for (const auto& id : mine) {
    text += id;
    text += '\n';
  }
  std::vector<std::string> ids;
  for (const auto& part : mpi::gather_bytes(text)) {
    for (size_t p = 0; p < part.size();) {
      size_t nl = part.find('\n', p);
      ids.emplace_back(part, p, nl - p);
      p = nl + 1;
    }
  }
  return ids;
}

void fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    fail("fsync of ", path, " failed: ", std::strerror(err));
  }
  ::close(fd);
}

// A scratch name beside the store, unique to this run (rank 0's host, pid and clock).
std::string stage_name(const std::string& out) {
  std::string name;
  if (mpi::rank() == 0) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    name = str(out, ".stage-", host, "-", getpid(), "-",
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  }
  return mpi::bcast_string(name);
}

int parse_zstd_level(const std::string& s) {
  if (s.empty() || s == "none") return 0;
  if (s == "zstd") return 3;
  if (s.rfind("zstd:", 0) == 0) {
    try {
      int level = std::stoi(s.substr(5));
      if (level >= 1 && level <= 22) return level;
    } catch (...) {
    }
  }
  fail("--compression: expected zstd or zstd:LEVEL with LEVEL 1..22, got '", s, "' (see 'esmpipe embed --help')");
}

// Rank 0 does something that may fail; every rank learns the outcome and throws the same error.
template <typename F>
void on_root(F&& f) {
  std::string error;
  if (mpi::rank() == 0) {
    try {
      f();
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = mpi::bcast_string(error);
  if (!error.empty()) {
    if (mpi::rank() != 0) log::set_level(log::Level::Quiet);  // rank 0 reports it
    throw Error(error);
  }
}

// cpu and reference come from the encoder; cuda from embed/cuda, which only this command links
// (the encoder library cannot depend on it without a cycle). With tensor parallelism the CPU
// devices run the split reference forward over the group's communicator, and cuda its NCCL path
// (which forms the same groups of consecutive ranks itself).
std::unique_ptr<embed::Backend> make_embed_backend(const Args& a, std::shared_ptr<const embed::Model> model, int threads,
                                                   const embed::parallel::TpGroup& group) {
  if (a.device != "cuda" && group.tp_size > 1) return embed::parallel::make_cpu_tp_backend(std::move(model), group);
  if (a.device != "cuda") return embed::make_backend(a.device, std::move(model), threads);
#ifdef ESMPIPE_HAVE_CUDA
  embed::CudaOptions options;
  options.precision = embed::parse_cuda_precision(a.precision);
  options.tensor_parallel = group.tp_size;
  return embed::make_cuda_backend(std::move(model), options);
#else
  (void)threads;
  fail(embed::kNoCudaBuildMessage);
#endif
}

// Frees the group's communicator when cmd_embed returns, after the backend that uses it. Not
// while unwinding: freeing is collective over the group, and an error may reach one rank only
// (the job is aborted then anyway).
struct TpGroupOwner {
  embed::parallel::TpGroup& group;
  ~TpGroupOwner() {
    if (std::uncaught_exceptions() == 0) embed::parallel::free_tp_group(group);
  }
};

}  // namespace

int cmd_embed(int argc, char** argv) {
  Args a;
  cli::po::options_description opts("embed options");
  opts.add_options()
      ("model", cli::po::value(&a.model)->required(), "HuggingFace ESM-2 model directory (config.json + safetensors)")
      ("fasta", cli::po::value(&a.fasta)->required(), "input FASTA (plain, .gz or .zst)")
      ("out", cli::po::value(&a.out)->required(), "the HDF5 store to write")
      ("device", cli::po::value(&a.device)->default_value("cpu"), "cpu, reference or cuda")
      ("precision", cli::po::value(&a.precision)->default_value("bf16"), "cuda only: bf16, fp16 or fp32 (fp32 = validation mode, TF32 off)")
      ("layers", cli::po::value(&a.layers)->default_value("-1"), "representation indices (0..L, negative from the end)")
      ("per-residue", cli::po::bool_switch(&a.per_residue), "store per-residue vectors (default: with --mean, both)")
      ("mean", cli::po::bool_switch(&a.mean), "store mean vectors (default: with --per-residue, both)")
      ("logits", cli::po::bool_switch(&a.logits), "store LM-head logits per residue")
      ("contacts", cli::po::bool_switch(&a.contacts), "store contact maps")
      ("dtype", cli::po::value(&a.dtype)->default_value("float32"), "float32 or float16 (per-residue and mean)")
      ("max-tokens", cli::po::value(&a.max_tokens)->default_value(4096), "tokens per packed batch")
      ("max-residues", cli::po::value(&a.max_residues)->default_value(embed::kDefaultMaxResidues), "residues kept per sequence")
      ("threads", cli::po::value(&a.threads)->default_value(0), "threads per rank (0: this rank's share of the cores)")
      ("tensor-parallel", cli::po::value(&a.tensor_parallel)->default_value(1),
       "split every layer across N consecutive ranks of one node (Megatron; MPI on cpu/reference, NCCL on cuda); "
       "the rank count must be a multiple of N; the store is the same as with N = 1")
      ("compression", cli::po::value(&a.compression)->default_value(""), "zstd or zstd:LEVEL (HDF5 filter 32015)")
      ("sync-seconds", cli::po::value(&a.sync_seconds)->default_value(-1),
       "fsync the store at most every S seconds, rows before their done flags, so a lost node (power, "
       "kernel crash) costs at most S seconds of work; 0: after every batch; -1: never (a killed job is safe anyway)")
      ("overwrite", cli::po::bool_switch(&a.overwrite), "replace an existing store")
      ("resume", cli::po::bool_switch(&a.resume), "continue an incomplete store (or start it if absent)");
  cli::po::positional_options_description pos;
  cli::po::variables_map vm;
  if (!cli::parse(argc, argv,
                  {"embed", "esmpipe embed --model DIR --fasta FILE --out FILE.h5 [options]",
                   "ESM-2 embeddings of every FASTA record into one HDF5 store, written in parallel by all ranks; "
                   "SIGTERM/SIGUSR1 stop at a batch boundary with exit code 75, --resume continues."},
                  opts, pos, vm))
    return kExitOk;
  if (a.overwrite && a.resume) fail("--overwrite and --resume exclude each other (see 'esmpipe embed --help')");
  if (a.dtype != "float32" && a.dtype != "float16") fail("--dtype must be float32 or float16 (see 'esmpipe embed --help')");
  if (a.device == "cuda" && !embed::kHaveCudaBuild) fail(embed::kNoCudaBuildMessage);
  if (a.device == "cuda") embed::parse_cuda_precision(a.precision);  // reject a bad name before any work
  // The CPU tensor-parallel backend is the split reference forward (plain loops, double sums):
  // it gives the bytes of --device reference, not those of the BLAS cpu backend, so a store made
  // with it must say reference.
  if (a.tensor_parallel > 1 && a.device == "cpu")
    fail("--tensor-parallel ", a.tensor_parallel, " on CPU runs the split reference forward: use --device reference "
         "(the store equals a --tensor-parallel 1 --device reference store; --device cpu has no split form)");
  if (a.max_tokens < 3) fail("--max-tokens must be at least 3 (see 'esmpipe embed --help')");
  if (a.max_residues < 1) fail("--max-residues must be positive (see 'esmpipe embed --help')");
  const int zstd_level = parse_zstd_level(a.compression);
  std::vector<int> layer_args;
  for (const auto& s : cli::split_list(a.layers)) {
    try {
      size_t used = 0;
      layer_args.push_back(std::stoi(s, &used));
      if (used != s.size()) throw std::invalid_argument(s);
    } catch (const std::exception&) {
      fail("--layers: '", s, "' is not an integer (see 'esmpipe embed --help')");
    }
  }
  if (layer_args.empty()) fail("--layers: no layer given (see 'esmpipe embed --help')");

  store::install_stop_handlers();
  h5::init();
  const auto t_start = Clock::now();
  // Collective; a rank count that is not a multiple of N (or a group across nodes) fails here,
  // before the model is read. TP 1 gives one-rank groups and the loop below runs as before.
  embed::parallel::TpGroup group = embed::parallel::make_tp_group(mpi::comm(), a.tensor_parallel);
  TpGroupOwner group_owner{group};
  const bool group_lead = group.tp_rank == 0;
  if (group.tp_size > 1)
    log::info0(str("tensor-parallel ", group.tp_size, ": ", group.num_groups, " group(s) of ", group.tp_size,
                   " consecutive ranks; tp_rank 0 of each group takes batches and writes rows"));

  // The model first: a missing or broken checkpoint fails before any input is read.
  auto model = embed::Model::load(a.model);
  const auto& cfg = model->config();
  // The backend too: no GPU, no CUDA build or too little memory fail before a store is created.
  const int threads = a.threads > 0 ? a.threads : cli::default_threads();
  auto backend = make_embed_backend(a, model, threads, group);
  auto layers = embed::resolve_layers(layer_args, cfg.num_layers);
  std::vector<int> unique_layers;
  for (int k : layers)
    if (std::find(unique_layers.begin(), unique_layers.end(), k) == unique_layers.end()) unique_layers.push_back(k);

  store::StoreMeta meta;
  meta.model_name = cfg.name;
  meta.num_layers = cfg.num_layers;
  meta.hidden = cfg.hidden;
  meta.input_path = a.fasta;
  auto& o = meta.options;
  o.layers = unique_layers;
  o.per_residue = a.per_residue || !a.mean;
  o.mean = a.mean || !a.per_residue;
  o.logits = a.logits;
  o.contacts = a.contacts;
  o.float16 = a.dtype == "float16";
  o.max_residues = a.max_residues;
  o.zstd_level = zstd_level;
  o.device = a.device;
  if (a.device == "cuda") o.precision = a.precision;  // resume refuses a store of another precision
  o.tensor_parallel = group.tp_size;                   // in the fingerprint on cuda only (layout.hpp)

  // An existing store without --resume/--overwrite is refused before the (long) length pass.
  on_root([&] {
    if (!a.resume && !a.overwrite && std::filesystem::exists(a.out))
      fail(a.out, " exists; use --resume to continue it or --overwrite to replace it");
  });

  // 1. Length pass.
  auto t0 = Clock::now();
  store::ResidueSource residues(a.fasta, stage_name(a.out), mpi::comm());
  Catalog catalog = read_catalog(a.fasta, a.max_residues, residues);
  const uint64_t n = catalog.kept.size();
  if (n == 0) fail(a.fasta, ": no sequences");
  store::refuse_duplicate_ids(catalog.my_ids, catalog.my_first, a.fasta, mpi::comm());
  log::info0(str("read ", n, " sequences from ", a.fasta, " in ", human_duration(since(t0)),
                 residues.staged() ? " (residues staged beside the store for random access)" : "",
                 catalog.truncated ? str("; ", catalog.truncated, " longer than --max-residues ", a.max_residues, " are truncated") : ""));
  store::Layout layout = store::make_layout(std::move(catalog.kept), o, cfg.hidden);
  catalog.kept = {};

  // 2. Lock, then create or check the store (rank 0, serial HDF5).
  std::unique_ptr<store::StoreLock> lock;
  std::vector<uint8_t> done(n, 0);
  bool already_complete = false;
  meta.input_sha256 = catalog.input_digest;
  // Rank 0 needs every ID only to create the store; a resumed store has them already.
  int creating = 0;
  if (mpi::rank() == 0) creating = !(a.resume && std::filesystem::exists(a.out));
  MPI_Bcast(&creating, 1, MPI_INT, 0, mpi::comm());
  std::vector<std::string> all_ids;
  if (creating) all_ids = gather_ids(catalog.my_ids);
  catalog.my_ids = {};
  on_root([&] {
    meta.model_sha256 = model->weights_sha256();
    lock = std::make_unique<store::StoreLock>(a.out);
    bool exists = std::filesystem::exists(a.out);
    if (exists && a.resume) {
      done = store::check_resumable(a.out, meta, layout, &already_complete);
      log::info("resuming ", a.out, ": ", std::count(done.begin(), done.end(), 1), " of ", n, " sequences already done");
    } else {
      if (exists && !a.overwrite) fail(a.out, " exists; use --resume to continue it or --overwrite to replace it");
      if (!creating) fail("internal: ", a.out, " disappeared after the length pass");
      store::create_store(a.out, meta, layout, all_ids);
      log::info("created ", a.out, ": ", n, " sequences, ", layout.residues(), " residue rows, ",
                human_bytes(double(layout.payload_bytes())), " of vectors to write");
    }
  });
  all_ids = {};
  MPI_Bcast(done.data(), static_cast<int>(n), MPI_UINT8_T, 0, mpi::comm());
  int complete_flag = already_complete;
  MPI_Bcast(&complete_flag, 1, MPI_INT, 0, mpi::comm());
  if (complete_flag) {
    residues.close();
    log::info0(str(a.out, " is already complete; nothing to do"));
    return kExitOk;
  }

  // 3. Embed the sequences not done yet, longest batches first.
  std::vector<size_t> todo, todo_tokens;
  for (uint64_t i = 0; i < n; ++i)
    if (!done[i]) { todo.push_back(i); todo_tokens.push_back(size_t(layout.length[i]) + 2); }
  auto plan = embed::plan_batches(todo_tokens, static_cast<size_t>(a.max_tokens));
  todo_tokens = {};
  const int64_t num_batches = static_cast<int64_t>(plan.size());
  embed::OutputRequest req{o.layers, o.logits, o.contacts};
  const bool need_layers = o.per_residue;

  store::WorkCounter counter(mpi::comm());
  store::StoreWriter writer(a.out, layout, o, mpi::comm(), a.sync_seconds);
  Progress progress("embed", todo.size() / group.num_groups, "seq");
  uint64_t my_tokens = 0, my_batches = 0, my_seqs = 0;
  double busy = 0, blocked = 0;
  // Test hook: tests that interrupt a running embed (Slurm requeue, signals) slow each batch down
  // by this many milliseconds so the interruption lands mid-run on a fast machine too.
  const char* delay_env = std::getenv("ESMPIPE_TEST_BATCH_DELAY_MS");
  const int batch_delay_ms = delay_env ? std::atoi(delay_env) : 0;
  double loop_seconds = 0, drain = 0;
  // A failure here may reach one rank while the others wait inside a collective write: the
  // writer, counter and stage must not run their collective destructors while unwinding, so the
  // job stops at once. The store stays incomplete (complete = 0) and --resume continues it.
  try {
    auto t_loop = Clock::now();
    for (;;) {
      if (batch_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(batch_delay_ms));
      // A signal seen by any rank of the group stops the group at this batch boundary; its
      // lead pushes the counter past the end so the other groups stop too.
      int stop = store::stop_requested() ? 1 : 0;
      if (group.tp_size > 1) MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, group.comm);
      int64_t b = num_batches;
      if (group_lead) {
        if (stop) counter.stop_all();
        else b = counter.next();
      }
      if (group.tp_size > 1) MPI_Bcast(&b, 1, MPI_INT64_T, 0, group.comm);
      if (stop || b >= num_batches) break;
      auto tb = Clock::now();
      const auto& members = plan[b];
      std::vector<std::vector<int32_t>> tokens;
      tokens.reserve(members.size());
      for (size_t m : members) {
        const uint64_t i = todo[m];
        tokens.push_back(embed::tokenize(residues.fetch(catalog.offset[i], uint32_t(layout.length[i])), a.max_residues, nullptr));
      }
      auto outs = backend->forward(tokens, req);  // collective over the group when TP > 1
      for (const auto& t : tokens) my_tokens += t.size();
      my_batches += 1;
      my_seqs += members.size();
      progress.add(members.size());
      if (!group_lead) {  // the lead writes the group's rows
        busy += since(tb);
        continue;
      }
      store::Batch batch(members.size());
      for (size_t j = 0; j < members.size(); ++j) {
        auto& s = batch[j];
        s.index = todo[members[j]];
        if (need_layers) s.layers = std::move(outs[j].layers);
        else s.layers.assign(o.layers.size(), {});
        s.means = std::move(outs[j].means);
        s.logits = std::move(outs[j].logits);
        s.contacts = std::move(outs[j].contacts);
      }
      busy += since(tb);
      blocked += writer.push(std::move(batch));
    }
    loop_seconds = since(t_loop);
    auto tw = Clock::now();
    writer.finish();  // collective
    residues.close();  // collective; every fetch is behind us
    drain = since(tw);
  } catch (const std::exception& e) {
    residues.abandon();
    // MPI_Abort even for one rank: a normal exit would let HDF5's exit handler close the
    // abandoned file (a collective call, and with MPI-IO state already gone).
    const std::string space = store::out_of_space_note(a.out);
    log::error(str("esmpipe embed: ", e.what(), space.empty() ? "" : "; " + space, " (", a.out,
                   " is left incomplete; rerun with --resume)"));
    MPI_Abort(mpi::comm(), kExitError);
    std::_Exit(kExitError);
  }
  progress.finish();

  // 4. Completeness, figures, exit code.
  const uint64_t written = mpi::allreduce_sum(writer.stats().sequences);
  const uint64_t before = std::count(done.begin(), done.end(), 1);
  const bool complete = before + written == n;
  const bool interrupted = mpi::allreduce_max(uint64_t(store::stop_requested() ? 1 : 0)) == 1;
  const double wall = since(t_start);
  std::string line = str(mpi::rank(), " ", group.group, " ", my_batches, " ", my_seqs, " ", my_tokens, " ", busy, " ",
                         loop_seconds - busy + drain, " ", writer.stats().bytes, " ", writer.stats().write_seconds, " ", writer.stats().syncs);
  auto lines = mpi::gather_bytes(line);
  on_root([&] {
    std::string report = "per-rank work (rank tp_group batches sequences tokens busy_s idle_s written_bytes write_s fsyncs):";
    for (const auto& l : lines) report += "\n  " + l;
    log::info(report);
    store::mark_complete(a.out, complete,
                         str("ranks=", mpi::size(), " written=", written, " wall_s=", wall, " interrupted=", interrupted));
    if (a.sync_seconds >= 0) fsync_file(a.out);
    log::info(a.out, complete ? ": complete, " : ": INCOMPLETE, ", before + written, " of ", n,
              " sequences done; this run wrote ", written, " in ", human_duration(wall),
              interrupted && !complete ? "; stopped by a signal, rerun with --resume" : "");
    lock.reset();
  });
  if (interrupted && !complete) return kExitInterrupted;
  if (!complete) fail("internal: ", n - before - written, " sequences were not written");
  return kExitOk;
}

}  // namespace esm
