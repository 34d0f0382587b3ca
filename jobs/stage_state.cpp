#include "stage_state.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "hdf5/hdf5w.hpp"

namespace esm::jobs {
namespace fs = std::filesystem;
namespace {

// A finished preprocess manifest says "state": "complete" (esmpipe preprocess); older or other
// writers may say "complete": true or mark every entry of "stages" done.
bool manifest_complete(const json::Value& m) {
  if (const json::Value* st = m.find("state")) return st->is_string() && st->as_string() == "complete";
  if (const json::Value* c = m.find("complete")) return c->type() == json::Value::Type::Bool && c->as_bool();
  const json::Value* stages = m.find("stages");
  if (!stages) return false;
  auto entry_done = [](const json::Value& v) {
    if (v.type() == json::Value::Type::Bool) return v.as_bool();
    if (!v.is_object()) return false;
    for (const char* k : {"done", "complete", "completed"})
      if (const json::Value* d = v.find(k)) return d->type() == json::Value::Type::Bool && d->as_bool();
    if (const json::Value* s = v.find("status")) return s->is_string() && (s->as_string() == "done" || s->as_string() == "complete");
    return false;
  };
  bool any = false;
  if (stages->is_object()) {
    for (const auto& [k, v] : stages->as_object()) {
      if (!entry_done(v)) return false;
      any = true;
    }
  } else if (stages->is_array()) {
    for (const auto& v : stages->as_array()) {
      if (!entry_done(v)) return false;
      any = true;
    }
  }
  return any;
}

std::string scalar_text(const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::String: return v.as_string();
    case json::Value::Type::Int: return std::to_string(v.as_int());
    case json::Value::Type::Bool: return v.as_bool() ? "true" : "false";
    case json::Value::Type::Double: return v.dump();
    default: return v.dump();
  }
}

// A parameter of the job that the manifest records under a different value; "" when they agree.
std::string parameter_mismatch(const Stage& stage, const json::Value& m) {
  const json::Value* params = m.find("parameters");
  if (!params || !params->is_object()) return "";
  for (const auto& opt : stage.options) {
    if (opt.flag || stage.option(opt.key) != &opt) continue;
    std::string underscored = opt.key;
    for (char& c : underscored) if (c == '-') c = '_';
    const json::Value* v = params->find(opt.key);
    if (!v) v = params->find(underscored);
    if (!v || v->is_object() || v->is_array()) continue;
    std::string have = scalar_text(*v);
    if (have == opt.value) continue;
    if (v->is_number()) {
      try {
        if (std::stod(have) == std::stod(opt.value)) continue;
      } catch (...) {
      }
    }
    return str(opt.key, " is ", have, " in the manifest, ", opt.value, " in the job");
  }
  return "";
}

StageState inspect_preprocess(const Stage& stage) {
  StageState s;
  fs::path dir(stage.out), manifest = dir / "manifest.json";
  if (!fs::exists(manifest)) {
    bool any = fs::exists(dir) && !fs::is_empty(dir);
    s.state = any ? State::Partial : State::Missing;
    s.detail = any ? "output directory exists, no manifest yet" : "no output yet";
    // A run in progress (or killed) keeps its per-stage record in manifest.json.partial.
    fs::path running = partial_path(manifest);
    if (fs::exists(running)) {
      try {
        json::Value m = json::parse(read_file(running), running.string());
        std::string done;
        if (const json::Value* st = m.find("stages"); st && st->is_object())
          for (const auto& [name, rec] : st->as_object())
            if (rec.is_object() && rec.find("done") && rec.at("done").type() == json::Value::Type::Bool && rec.at("done").as_bool())
              done += (done.empty() ? "" : ", ") + name;
        s.detail = "unfinished; stages done: " + (done.empty() ? std::string("none") : done);
      } catch (const Error&) {
      }
    }
    return s;
  }
  json::Value m;
  try {
    m = json::parse(read_file(manifest), manifest.string());
  } catch (const Error& e) {
    s.state = State::Partial;
    s.detail = str("unreadable manifest: ", e.what());
    return s;
  }
  if (!manifest_complete(m)) {
    s.state = State::Partial;
    s.detail = "manifest says unfinished";
    return s;
  }
  // Every output the manifest lists must still be there with its size.
  if (const json::Value* outs = m.find("outputs")) {
    auto check = [&](const json::Value& e) -> std::string {
      if (!e.is_object() || !e.contains("path")) return "";
      fs::path p(e.at("path").as_string());
      if (p.is_relative()) p = dir / p;
      if (!fs::exists(p)) return str(p.string(), " is missing");
      if (const json::Value* sz = e.find("size"))
        if (sz->is_number() && static_cast<int64_t>(fs::file_size(p)) != sz->as_int())
          return str(p.string(), " changed size since the manifest was written");
      return "";
    };
    std::vector<const json::Value*> entries;
    if (outs->is_array()) for (const auto& e : outs->as_array()) entries.push_back(&e);
    if (outs->is_object()) for (const auto& [k, e] : outs->as_object()) entries.push_back(&e);
    for (const json::Value* e : entries) {
      std::string problem = check(*e);
      if (!problem.empty()) {
        s.state = State::Partial;
        s.detail = "manifest complete but " + problem;
        return s;
      }
    }
  }
  std::string mismatch = parameter_mismatch(stage, m);
  if (!mismatch.empty()) {
    s.state = State::Mismatch;
    s.detail = "finished with other parameters: " + mismatch;
    return s;
  }
  s.state = State::Done;
  s.detail = "manifest complete";
  return s;
}

StageState inspect_embed(const Stage& stage) {
  StageState s;
  std::string path = stage.out;
  if (!fs::exists(path)) {
    if (fs::exists(partial_path(path))) path = partial_path(path).string();
    else {
      s.detail = "no store yet";
      return s;
    }
  }
  StoreProgress p = read_store_progress(path);
  if (!p.readable) {
    s.state = State::Partial;
    s.detail = "store not readable yet (" + p.error + ")";
    return s;
  }
  s.has_progress = true;
  s.seqs_total = p.seqs_total;
  s.seqs_done = p.seqs_done;
  s.tokens_total = p.tokens_total;
  s.tokens_done = p.tokens_done;
  // The store must be this job's: same input FASTA and the options the job states. (Model and
  // every option are checked by embed itself on --resume.)
  auto differs = [&](const char* attr, const std::string& job_value, bool is_path) -> std::string {
    auto it = p.attrs.find(attr);
    if (job_value.empty() || it == p.attrs.end()) return "";
    std::string a = it->second, b = job_value;
    if (is_path) {
      std::error_code ec;
      a = fs::weakly_canonical(a, ec).string();
      b = fs::weakly_canonical(b, ec).string();
    }
    return a == b ? "" : str(attr, " is ", it->second, " in the store, ", job_value, " in the job");
  };
  auto opt = [&](const char* key) {
    const StageOption* o = stage.option(key);
    return o && !o->flag ? o->value : std::string();
  };
  for (std::string d : {differs("input_path", stage.input, true), differs("dtype", opt("dtype"), false),
                        differs("max_residues", opt("max-residues"), false)}) {
    if (!d.empty()) {
      s.state = State::Mismatch;
      s.detail = "store made by another run: " + d;
      return s;
    }
  }
  if (p.complete == 1 && p.seqs_done == p.seqs_total) {
    s.state = State::Done;
    s.detail = str("store complete, ", p.seqs_total, " sequences");
  } else {
    s.state = State::Partial;
    s.detail = str("store incomplete, ", p.seqs_done, "/", p.seqs_total, " sequences done");
  }
  return s;
}

}  // namespace

const char* state_name(State s) {
  switch (s) {
    case State::Missing: return "missing";
    case State::Partial: return "partial";
    case State::Done: return "done";
    case State::Mismatch: return "mismatch";
  }
  return "?";
}

StoreProgress read_store_progress(const std::string& path) {
  StoreProgress p;
  try {
    h5::init();
    h5::Id fapl(H5Pcreate(H5P_FILE_ACCESS), "file access list");
    // The writer holds the file open; without this HDF5 1.10 refuses a second opener.
    H5Pset_file_locking(fapl, false, true);
    h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), "opening " + path);
    if (h5::has_attr(file, "complete")) p.complete = static_cast<int>(h5::read_attr_int(file, "complete"));
    for (const char* name : {"input_path", "dtype", "model_name"})
      if (h5::has_attr(file, name)) p.attrs[name] = h5::read_attr_string(file, name);
    if (h5::has_attr(file, "max_residues")) p.attrs["max_residues"] = std::to_string(h5::read_attr_int(file, "max_residues"));
    if (!h5::exists(file, "/sequences/done")) {
      p.error = "no /sequences/done in " + path;
      return p;
    }
    std::vector<uint8_t> done = h5::read_uint8(file, "/sequences/done");
    std::vector<int32_t> length;
    if (h5::exists(file, "/sequences/length")) length = h5::read_int32(file, "/sequences/length");
    p.seqs_total = done.size();
    for (size_t i = 0; i < done.size(); ++i) {
      // Tokens as the encoder sees them: the kept residues plus CLS and EOS.
      uint64_t tokens = i < length.size() ? static_cast<uint64_t>(std::max(length[i], 0)) + 2 : 0;
      p.tokens_total += tokens;
      if (done[i]) {
        ++p.seqs_done;
        p.tokens_done += tokens;
      }
    }
    p.readable = true;
  } catch (const Error& e) {
    p.error = e.what();
  }
  return p;
}

StageState inspect_stage(const Stage& stage) {
  return stage.kind == StageKind::Embed ? inspect_embed(stage) : inspect_preprocess(stage);
}

}  // namespace esm::jobs
