// `esmpipe preprocess`: options, restart logic and the stage loop. The stages themselves are
// in stage_*.cpp; the output contract is /work/shared/docs/preprocess-outputs.md (copied in
// docs/FORMATS.md, preprocess).
//
// Restart: manifest.json.partial in --out records the run key (a digest of the inputs' paths,
// sizes and mtimes, the parameters that change outputs, and the number of ranks) and each
// finished stage with its counts. A rerun with the same key skips finished stages; another key
// (or --force) starts over. Work files live in --out/.esmpipe-work/. Outputs are written as
// "<final>.partial" and renamed only when all are complete; the renames are recorded first
// ("state": "committing") so a run killed between two renames completes them on rerun.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cluster/assign_members.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "core/sha256.hpp"
#include "pipeline/file_digests.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/validation_choice.hpp"

namespace esm {

namespace fs = std::filesystem;

namespace prep {

std::string Context::work(const std::string& name) const { return (fs::path(work_dir) / name).string(); }
std::string Context::rank_work(const std::string& name) const {
  return (fs::path(work_dir) / (std::string("r") + std::to_string(rank) + "." + name)).string();
}
std::string Context::out_path(const std::string& name) const { return (fs::path(params.out) / name).string(); }

std::vector<uint64_t> Context::per_rank(const std::string& stage, const std::string& key) const {
  std::vector<uint64_t> v;
  for (const auto& x : manifest.root().at("stages").at(stage).at("counts").at("per_rank").at(key).as_array())
    v.push_back(static_cast<uint64_t>(x.as_int()));
  return v;
}
static uint64_t sum_before(const std::vector<uint64_t>& v, int r) {
  uint64_t s = 0;
  for (int i = 0; i < r; ++i) s += v[i];
  return s;
}
uint64_t Context::base50() const { return sum_before(per_rank("read", "uniref50_kept"), rank); }
uint64_t Context::base90() const { return sum_before(per_rank("read", "uniref90_kept"), rank); }
uint64_t Context::local50() const { return per_rank("read", "uniref50_kept").at(rank); }
uint64_t Context::local90() const { return per_rank("read", "uniref90_kept").at(rank); }
uint64_t Context::total50() const { return sum_before(per_rank("read", "uniref50_kept"), nranks); }
uint64_t Context::total90() const { return sum_before(per_rank("read", "uniref90_kept"), nranks); }

// Test hooks (documented in docs/ARCHITECTURE.md): end the process the way a kill would, at a
// stage's midpoint (ESMPIPE_TEST_KILL_IN_STAGE) or just after it is recorded
// (ESMPIPE_TEST_KILL_AFTER_STAGE). Every rank stops at the same point.
static bool test_hook(const char* var, const std::string& stage) {
  const char* v = std::getenv(var);
  return v && stage == v;
}
static void die_for_test(const char* var, const std::string& stage) {
  mpi::barrier();
  log::warn("test hook ", var, "=", stage, ": exiting with status 9");
  std::fflush(nullptr);
  ::_exit(9);
}
void Context::kill_point(const std::string& stage) const {
  if (test_hook("ESMPIPE_TEST_KILL_IN_STAGE", stage)) die_for_test("ESMPIPE_TEST_KILL_IN_STAGE", stage);
}

namespace {

uint64_t parse_size(const std::string& s) {
  size_t pos = 0;
  double v = 0;
  try { v = std::stod(s, &pos); } catch (...) { fail("--memory-limit: cannot read '", s, "' (e.g. 512M, 2G)"); }
  std::string unit = s.substr(pos);
  double mult = 1;
  if (unit == "" || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB") mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TiB") mult = 1024.0 * 1024 * 1024 * 1024;
  else fail("--memory-limit: unknown unit '", unit, "' in '", s, "' (use K, M, G or T)");
  if (v <= 0) fail("--memory-limit must be positive");
  return static_cast<uint64_t>(v * mult);
}

json::Value parameters_json(const PreprocessParams& p) {
  json::Value v;
  v["seed"] = p.seed;
  if (p.val_size >= 0) v["val_size"] = p.val_size;
  else v["val_fraction"] = p.val_fraction;
  v["min_seq_id"] = p.search.min_seq_id;
  v["coverage"] = p.search.coverage;
  v["cov_mode"] = p.search.cov_mode;
  v["seq_id_mode"] = p.search.seq_id_mode;
  v["evalue"] = p.search.evalue;
  v["max_residues"] = p.max_residues;
  v["crop"] = p.crop;
  v["min_length"] = p.min_length;
  return v;
}

// How UniRef90 records are placed in clusters: from the --membership file, or by clustering.
std::string membership_method(const PreprocessParams& p) {
  if (!p.membership.empty()) return "membership file";
  return cluster::membership_method(cluster::uniref_membership_params());
}

// Identifies the run's inputs and parameters. Not the rank count: outputs are the same for any
// number of ranks, so a finished run is finished for every -n (a resume checks ranks itself).
std::string run_key(const PreprocessParams& p) {
  json::Value k;
  k["tool_version"] = tool_version();
  k["parameters"] = parameters_json(p);
  json::Value inputs = json::Array{};
  for (const auto& path : {p.uniref50, p.uniref90, p.membership}) {
    json::Value e;
    if (path.empty()) {  // no membership file: clustering, keyed by its method below
      e["path"] = "";
      inputs.push_back(e);
      continue;
    }
    e["path"] = fs::absolute(path).lexically_normal().string();
    e["size"] = static_cast<uint64_t>(fs::file_size(path));
    e["mtime"] = static_cast<int64_t>(fs::last_write_time(path).time_since_epoch().count());
    inputs.push_back(e);
  }
  k["inputs"] = inputs;
  if (p.membership.empty()) k["membership_method"] = membership_method(p);
  return sha256_hex(k.dump());
}

bool stage_done(const Manifest& m, const std::string& stage) {
  const json::Value* s = m.root().find("stages");
  if (!s) return false;
  const json::Value* st = s->find(stage);
  return st && st->find("done") && st->at("done").as_bool();
}

// Renames every output's .partial to its final name; outputs already renamed by a killed
// run are skipped. Rank 0 only.
void commit_outputs(const Context& ctx) {
  bool first = true;
  for (const auto& name : output_names()) {
    fs::path final_path = ctx.out_path(name);
    if (fs::exists(partial_path(final_path))) {
      commit_partial(final_path);
      if (first) {
        first = false;
        if (test_hook("ESMPIPE_TEST_KILL_IN_STAGE", "commit")) {
          log::warn("test hook ESMPIPE_TEST_KILL_IN_STAGE=commit: exiting with status 9");
          ::_exit(9);
        }
      }
    } else if (!fs::exists(final_path)) {
      fail(final_path.string(), ": neither the output nor its .partial exists; rerun with --force");
    }
  }
}

}  // namespace

int run_preprocess(const PreprocessParams& params) {
  using Clock = std::chrono::steady_clock;
  auto run_start = Clock::now();
  Context ctx;
  ctx.params = params;
  ctx.rank = mpi::rank();
  ctx.nranks = mpi::size();
  const auto& p = ctx.params;
  for (const auto& [flag, path] : {std::pair{"--uniref50", p.uniref50}, {"--uniref90", p.uniref90},
                                   {"--membership", p.membership}}) {
    if (path.empty() && std::string(flag) == "--membership") continue;  // none: placed by clustering
    if (path.empty()) fail(flag, " is required");
    if (!fs::is_regular_file(path)) fail(path, ": ", flag, " input does not exist or is not a file");
  }
  if (p.crop != "start" && p.crop != "random") fail("--crop must be 'start' or 'random', got '", p.crop, "'");
  align::validate(p.search);

  const fs::path out(p.out);
  const fs::path manifest_path = out / "manifest.json", manifest_partial = partial_path(manifest_path);
  ctx.work_dir = (out / ".esmpipe-work").string();
  const std::string key = run_key(p);

  // Decide (rank 0) between: already complete, resume, start fresh; every rank follows.
  std::string decision, state_text;
  if (ctx.rank == 0) {
    fs::create_directories(out);
    decision = "fresh";
    if (fs::exists(manifest_path) && !p.force) {
      Manifest done = Manifest::load(manifest_path);
      const json::Value* k = done.root().find("run_key");
      if (k && k->as_string() == key) {
        decision = "complete";
        // "Complete" only while the outputs are still the ones the manifest describes (by size).
        if (const json::Value* outs = done.root().find("outputs"))
          for (const auto& o : outs->as_array()) {
            fs::path f = out / o.at("path").as_string();
            if (!fs::exists(f) || static_cast<int64_t>(fs::file_size(f)) != o.at("size").as_int())
              fail(f.string(), ": missing or changed since ", manifest_path.string(), " was written; pass --force to redo the run");
          }
      } else fail(manifest_path.string(), ": outputs of a different run exist in ", out.string(),
                "; refusing to overwrite them (pass --force to replace them)");
    } else if (fs::exists(manifest_partial) && !p.force) {
      Manifest partial = Manifest::load(manifest_partial);
      const json::Value* k = partial.root().find("run_key");
      const json::Value* r = partial.root().find("work_ranks");
      // Work files of unfinished stages are cut per rank: they only resume with the same -n.
      if (k && k->as_string() == key && r && r->as_int() == ctx.nranks) {
        decision = "resume";
        state_text = partial.root().dump();
      } else if (k && k->as_string() == key) {
        log::warn(manifest_partial.string(), ": the unfinished run used ", r ? r->as_int() : -1, " ranks, this one ",
                  ctx.nranks, "; starting over");
      } else {
        log::warn(manifest_partial.string(), ": an unfinished run with other inputs or parameters; starting over");
      }
    }
    if (decision == "fresh") {
      for (const auto& name : output_names()) {
        fs::path f = out / name;
        if (fs::exists(f) && !p.force)
          fail(f.string(), ": output exists; refusing to overwrite it (pass --force to replace it)");
      }
      // Old outputs go first, so a killed --force run never leaves old and new files side by side.
      for (const auto& name : output_names()) fs::remove(out / name);
      fs::remove(manifest_path);
      fs::remove_all(ctx.work_dir);
      fs::create_directories(ctx.work_dir);
    }
  }
  decision = mpi::bcast_string(decision);
  state_text = mpi::bcast_string(state_text);
  if (decision == "complete") {
    log::info0(str("preprocess: ", manifest_path.string(), " is complete for these inputs and parameters; nothing to do (--force redoes it)"));
    return kExitOk;
  }
  if (decision == "resume") {
    ctx.manifest.root() = json::parse(state_text, manifest_partial.string());
    ctx.manifest["command_line"] = command_line();
    log::info0("preprocess: resuming the unfinished run in " + out.string());
  } else {
    ctx.manifest["format"] = "esmpipe-preprocess";
    ctx.manifest["format_version"] = 1;
    ctx.manifest["run_key"] = key;
    ctx.manifest["work_ranks"] = ctx.nranks;
    ctx.manifest["state"] = "running";
    ctx.manifest["parameters"] = parameters_json(p);
    ctx.manifest["membership"] = p.membership.empty() ? std::string("clustering") : p.membership;
    ctx.manifest["membership_method"] = membership_method(p);
    ctx.manifest["stages"] = json::Object{};
  }
  ctx.manifest["ranks"] = ctx.nranks;
  auto save = [&]() {
    if (ctx.rank == 0) ctx.manifest.save(manifest_partial);
    mpi::barrier();
  };

  using StageFn = json::Value (*)(Context&);
  const StageFn fns[] = {stage_read, stage_validation, stage_filter, stage_attach, stage_crop, stage_order, stage_write};
  const bool committing = ctx.manifest.root().find("state") && ctx.manifest.root().at("state").as_string() == "committing";
  for (size_t i = 0; i < stage_names().size() && !committing; ++i) {
    const std::string& name = stage_names()[i];
    if (stage_done(ctx.manifest, name)) {
      log::info0("preprocess: stage " + name + " already done");
      continue;
    }
    log::info0("preprocess: stage " + name);
    auto t0 = Clock::now();
    json::Value counts = fns[i](ctx);
    double wall = mpi::allreduce_max(std::chrono::duration<double>(Clock::now() - t0).count());
    json::Value rec;
    rec["done"] = true;
    rec["wall_s"] = wall;
    rec["counts"] = counts;
    // Peak resident memory of each rank so far (the bound docs/ARCHITECTURE.md states).
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    json::Value rss = json::Array{};
    for (uint64_t kb : mpi::allgather(static_cast<uint64_t>(ru.ru_maxrss))) rss.push_back(kb);
    rec["peak_rss_kb_per_rank"] = rss;
    ctx.manifest["stages"][name] = rec;
    save();
    log::info0(str("preprocess: stage ", name, " done in ", human_duration(wall)));
    if (test_hook("ESMPIPE_TEST_KILL_AFTER_STAGE", name)) die_for_test("ESMPIPE_TEST_KILL_AFTER_STAGE", name);
  }

  // Commit: fingerprints of the complete .partial files, then the renames, then the manifest.
  if (!committing) {
    std::vector<std::string> names = output_names();
    std::vector<std::string> partials;
    for (const auto& name : names) partials.push_back(partial_path(ctx.out_path(name)));
    const std::vector<std::string> sha = sha256_files_collective(partials);
    json::Value outputs = json::Array{};
    for (size_t i = 0; i < names.size(); ++i) {
      json::Value e;
      e["path"] = names[i];
      e["size"] = static_cast<uint64_t>(fs::file_size(partial_path(ctx.out_path(names[i]))));
      e["sha256"] = sha[i];
      outputs.push_back(e);
    }
    ctx.manifest["outputs"] = outputs;
    ctx.manifest["state"] = "committing";
    save();
  }
  if (ctx.rank == 0) {
    commit_outputs(ctx);
    // Summary counts: one flat object gathered from the stages, for people and scripts.
    json::Value summary;
    for (const auto& name : stage_names()) {
      const json::Value& c = ctx.manifest.root().at("stages").at(name).at("counts");
      for (const auto& [k, v] : c.as_object())
        // Per-rank figures and sort diagnostics depend on the number of ranks; the summary does not.
        if (k != "per_rank" && k != "exchange_rounds" && k != "runs_spilled") summary[k] = v;
    }
    ctx.manifest["counts"] = summary;
    ctx.manifest["state"] = "complete";
    double total = 0;
    for (const auto& name : stage_names()) total += ctx.manifest.root().at("stages").at(name).at("wall_s").as_double();
    ctx.manifest["wall_s_stages_total"] = total;
    ctx.manifest.save(manifest_path);
    fs::remove(manifest_partial);
    fs::remove_all(ctx.work_dir);
    const json::Value& c = ctx.manifest.root().at("counts");
    log::info0(str("preprocess: done in ", human_duration(std::chrono::duration<double>(Clock::now() - run_start).count()),
                   ": ", c.at("train_clusters").as_int(), " train clusters, ", c.at("sampling_records").as_int(),
                   " sampling records, ", c.at("validation").as_int(), " validation, ", c.at("removed").as_int(),
                   " removed by the identity filter, ", c.at("orphans_no_cluster").as_int() +
                   c.at("orphans_no_sequence").as_int() + c.at("orphans_unknown_cluster").as_int(),
                   " orphans -> ", out.string()));
  }
  mpi::barrier();
  return kExitOk;
}

}  // namespace prep

int cmd_preprocess(int argc, char** argv) {
  namespace po = cli::po;
  prep::PreprocessParams p;
  std::string memory = "2G";
  po::options_description o("preprocess options");
  o.add_options()
      ("uniref50", po::value(&p.uniref50), "UniRef50 FASTA (.fasta, .gz, .zst)")
      ("uniref90", po::value(&p.uniref90), "UniRef90 FASTA (.fasta, .gz, .zst)")
      ("membership", po::value(&p.membership), "UniRef50 or UniRef90 XML (.xml, .xml.gz) or uniref90_id<TAB>uniref50_id TSV; "
       "without it UniRef90 records join the UniRef50 representative they match best (>= 50% identity, >= 80% coverage)")
      ("out", po::value(&p.out), "output directory")
      ("val-fraction", po::value(&p.val_fraction)->default_value(0.005, "0.005"), "validation share of UniRef50: floor(f * N)")
      ("val-size", po::value(&p.val_size), "validation set size (instead of --val-fraction)")
      ("seed", po::value(&p.seed)->default_value(0), "seed of the validation choice and of --crop random")
      ("min-seq-id", po::value(&p.search.min_seq_id)->default_value(0.5, "0.5"), "identity filter: minimum sequence identity")
      ("coverage,c", po::value(&p.search.coverage)->default_value(0.8, "0.8"), "identity filter: minimum coverage")
      ("cov-mode", po::value(&p.search.cov_mode)->default_value(0), "identity filter: MMseqs2 coverage mode 0-5")
      ("seq-id-mode", po::value(&p.search.seq_id_mode)->default_value(0), "identity filter: MMseqs2 identity mode 0-2")
      ("evalue,e", po::value(&p.search.evalue)->default_value(1e-3, "1e-3"), "identity filter: maximum E-value")
      ("max-residues", po::value(&p.max_residues)->default_value(1023), "crop every written sequence to this many residues (0 = no crop)")
      ("crop", po::value(&p.crop)->default_value("start"), "which window to keep: start | random (seeded)")
      ("min-length", po::value(&p.min_length)->default_value(0), "drop sequences shorter than this (before everything else)")
      ("memory-limit", po::value(&memory)->default_value("2G"), "per-rank memory for the sort; beyond it runs spill to disk (zstd)")
      ("threads", po::value(&p.threads)->default_value(0), "threads per rank for the identity filter (0 = cores / ranks)")
      ("force", po::bool_switch(&p.force), "redo every stage and replace existing outputs");
  po::variables_map vm;
  po::positional_options_description pos;
  if (!cli::parse(argc, argv,
                  {"preprocess", "esmpipe preprocess --uniref50 F --uniref90 F [--membership F] --out DIR [options]",
                   "UniRef50/90 to the ESM-2nv pretraining layout (validation split, identity filter, crop)"},
                  o, pos, vm))
    return kExitOk;
  if (!vm.count("out")) fail("--out is required (see 'esmpipe preprocess --help')");
  if (vm.count("val-size") && !vm["val-fraction"].defaulted())
    fail("--val-size and --val-fraction are exclusive (see 'esmpipe preprocess --help')");
  if (vm.count("val-size") && p.val_size < 0) fail("--val-size must be >= 0");
  p.memory_limit = prep::parse_size(memory);
  if (p.threads <= 0) p.threads = cli::default_threads();
  return prep::run_preprocess(p);
}

}  // namespace esm
