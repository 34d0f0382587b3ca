// esmpipe embed: FASTA -> one parallel HDF5 embedding store (/work/shared/docs/embedding-store.md).
//
// Phases, all ranks together:
//   1. length pass: each rank reads its shard of the FASTA; IDs and residues are allgathered, so
//      every rank knows every sequence (duplicates are refused here, before any work);
//   2. layout: row offsets from the lengths; rank 0 takes the lock and creates (or, for
//      --resume, checks) the store's structure;
//   3. embed: length-sorted batches of the sequences not yet done, handed out by a shared
//      counter (store/work_counter.hpp); each rank's writer thread puts rows in place;
//   4. finish: rank 0 sets `complete` when every sequence is done and prints per-rank figures.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "core/sha256.hpp"
#include "cuda/cuda_backend.hpp"
#include "encoder/backend.hpp"
#include "encoder/model.hpp"
#include "encoder/tokenizer.hpp"
#include "hdf5/hdf5w.hpp"
#include "io/fasta.hpp"
#include "store/layout.hpp"
#include "store/lock.hpp"
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
  int max_residues = 0, threads = 0;
};

// Every sequence of the input, on every rank: "id\nresidues\n" records in input order.
struct Corpus {
  std::string text;
  std::vector<std::string> ids;
  std::vector<uint64_t> seq_at;   // start of residues in text
  std::vector<uint32_t> seq_len;  // residues before truncation
  std::string_view residues(size_t i) const { return {text.data() + seq_at[i], seq_len[i]}; }
};

Corpus read_corpus(const std::string& path) {
  io::ShardReader reader(path);  // collective
  std::string mine;
  io::FastaRecord rec;
  while (reader.next(rec)) {
    mine += rec.id;
    mine += '\n';
    mine += rec.seq;
    mine += '\n';
  }
  Corpus c;
  for (auto& part : mpi::allgather_bytes(mine)) c.text += part;
  for (size_t p = 0; p < c.text.size();) {
    size_t nl = c.text.find('\n', p);
    size_t end = c.text.find('\n', nl + 1);
    c.ids.emplace_back(c.text.substr(p, nl - p));
    c.seq_at.push_back(nl + 1);
    c.seq_len.push_back(static_cast<uint32_t>(end - nl - 1));
    p = end + 1;
  }
  return c;
}

void refuse_duplicates(const Corpus& c, const std::string& path) {
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(c.ids.size());
  for (size_t i = 0; i < c.ids.size(); ++i) {
    auto [it, fresh] = seen.emplace(c.ids[i], i);
    if (!fresh)
      fail(path, ": duplicate ID '", c.ids[i], "' in records ", it->second + 1, " and ", i + 1,
           " (store rows are looked up by ID; IDs must be unique)");
  }
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
// (the encoder library cannot depend on it without a cycle).
std::unique_ptr<embed::Backend> make_embed_backend(const Args& a, std::shared_ptr<const embed::Model> model, int threads) {
  if (a.device != "cuda") return embed::make_backend(a.device, std::move(model), threads);
#ifdef ESMPIPE_HAVE_CUDA
  embed::CudaOptions options;
  options.precision = embed::parse_cuda_precision(a.precision);
  return embed::make_cuda_backend(std::move(model), options);
#else
  (void)threads;
  fail(embed::kNoCudaBuildMessage);
#endif
}

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
      ("compression", cli::po::value(&a.compression)->default_value(""), "zstd or zstd:LEVEL (HDF5 filter 32015)")
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

  // The model first: a missing or broken checkpoint fails before any input is read.
  auto model = embed::Model::load(a.model);
  const auto& cfg = model->config();
  // The backend too: no GPU, no CUDA build or too little memory fail before a store is created.
  const int threads = a.threads > 0 ? a.threads : cli::default_threads();
  auto backend = make_embed_backend(a, model, threads);
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

  // 1. Length pass.
  auto t0 = Clock::now();
  Corpus corpus = read_corpus(a.fasta);
  const uint64_t n = corpus.ids.size();
  if (n == 0) fail(a.fasta, ": no sequences");
  refuse_duplicates(corpus, a.fasta);
  std::vector<int32_t> kept(n);
  uint64_t truncated = 0;
  for (uint64_t i = 0; i < n; ++i) {
    kept[i] = static_cast<int32_t>(std::min<uint64_t>(corpus.seq_len[i], a.max_residues));
    truncated += corpus.seq_len[i] > uint64_t(a.max_residues);
  }
  log::info0(str("read ", n, " sequences from ", a.fasta, " in ", human_duration(since(t0)),
                 truncated ? str("; ", truncated, " longer than --max-residues ", a.max_residues, " are truncated") : ""));
  store::Layout layout = store::make_layout(kept, o, cfg.hidden);

  // 2. Lock, then create or check the store (rank 0, serial HDF5).
  std::unique_ptr<store::StoreLock> lock;
  std::vector<uint8_t> done(n, 0);
  bool already_complete = false;
  on_root([&] {
    meta.model_sha256 = model->weights_sha256();
    meta.input_sha256 = sha256_hex(corpus.text);
    lock = std::make_unique<store::StoreLock>(a.out);
    bool exists = std::filesystem::exists(a.out);
    if (exists && a.resume) {
      done = store::check_resumable(a.out, meta, layout, &already_complete);
      log::info("resuming ", a.out, ": ", std::count(done.begin(), done.end(), 1), " of ", n, " sequences already done");
    } else {
      if (exists && !a.overwrite) fail(a.out, " exists; use --resume to continue it or --overwrite to replace it");
      store::create_store(a.out, meta, layout, corpus.ids);
      log::info("created ", a.out, ": ", n, " sequences, ", layout.residues(), " residue rows, ",
                human_bytes(double(layout.payload_bytes())), " of vectors to write");
    }
  });
  MPI_Bcast(done.data(), static_cast<int>(n), MPI_UINT8_T, 0, mpi::comm());
  int complete_flag = already_complete;
  MPI_Bcast(&complete_flag, 1, MPI_INT, 0, mpi::comm());
  if (complete_flag) {
    log::info0(str(a.out, " is already complete; nothing to do"));
    return kExitOk;
  }

  // 3. Embed the sequences not done yet, longest batches first.
  std::vector<size_t> todo, todo_tokens;
  for (uint64_t i = 0; i < n; ++i)
    if (!done[i]) { todo.push_back(i); todo_tokens.push_back(size_t(kept[i]) + 2); }
  auto plan = embed::plan_batches(todo_tokens, static_cast<size_t>(a.max_tokens));
  const int64_t num_batches = static_cast<int64_t>(plan.size());
  embed::OutputRequest req{o.layers, o.logits, o.contacts};
  const bool need_layers = o.per_residue;

  store::WorkCounter counter(mpi::comm());
  store::StoreWriter writer(a.out, layout, o, mpi::comm());
  Progress progress("embed", todo.size() / mpi::size(), "seq");
  uint64_t my_tokens = 0, my_batches = 0, my_seqs = 0;
  double busy = 0, blocked = 0;
  // Test hook: tests that interrupt a running embed (Slurm requeue, signals) slow each batch down
  // by this many milliseconds so the interruption lands mid-run on a fast machine too.
  const char* delay_env = std::getenv("ESMPIPE_TEST_BATCH_DELAY_MS");
  const int batch_delay_ms = delay_env ? std::atoi(delay_env) : 0;
  auto t_loop = Clock::now();
  for (;;) {
    if (batch_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(batch_delay_ms));
    if (store::stop_requested()) {
      counter.stop_all();
      break;
    }
    int64_t b = counter.next();
    if (b >= num_batches) break;
    auto tb = Clock::now();
    const auto& members = plan[b];
    std::vector<std::vector<int32_t>> tokens;
    tokens.reserve(members.size());
    for (size_t m : members) tokens.push_back(embed::tokenize(corpus.residues(todo[m]), a.max_residues, nullptr));
    auto outs = backend->forward(tokens, req);
    store::Batch batch(members.size());
    for (size_t j = 0; j < members.size(); ++j) {
      auto& s = batch[j];
      s.index = todo[members[j]];
      if (need_layers) s.layers = std::move(outs[j].layers);
      else s.layers.assign(o.layers.size(), {});
      s.means = std::move(outs[j].means);
      s.logits = std::move(outs[j].logits);
      s.contacts = std::move(outs[j].contacts);
      my_tokens += tokens[j].size();
    }
    busy += since(tb);
    blocked += writer.push(std::move(batch));
    my_batches += 1;
    my_seqs += members.size();
    progress.add(members.size());
  }
  const double loop_seconds = since(t_loop);
  auto tw = Clock::now();
  writer.finish();  // collective
  const double drain = since(tw);
  progress.finish();

  // 4. Completeness, figures, exit code.
  const uint64_t written = mpi::allreduce_sum(writer.stats().sequences);
  const uint64_t before = std::count(done.begin(), done.end(), 1);
  const bool complete = before + written == n;
  const bool interrupted = mpi::allreduce_max(uint64_t(store::stop_requested() ? 1 : 0)) == 1;
  const double wall = since(t_start);
  std::string line = str(mpi::rank(), " ", my_batches, " ", my_seqs, " ", my_tokens, " ", busy, " ",
                         loop_seconds - busy + drain, " ", writer.stats().bytes, " ", writer.stats().write_seconds);
  auto lines = mpi::gather_bytes(line);
  on_root([&] {
    std::string report = "per-rank work (rank batches sequences tokens busy_s idle_s written_bytes write_s):";
    for (const auto& l : lines) report += "\n  " + l;
    log::info(report);
    store::mark_complete(a.out, complete,
                         str("ranks=", mpi::size(), " written=", written, " wall_s=", wall, " interrupted=", interrupted));
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
