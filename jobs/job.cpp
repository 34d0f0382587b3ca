#include "job.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "ini.hpp"

namespace esm::jobs {
namespace fs = std::filesystem;
namespace {

// Keys whose values are file or directory names: made absolute against the job file's
// directory (or the current directory for command-line overrides).
const std::set<std::string> kPathKeys = {"workdir", "uniref50", "uniref90", "membership", "out",
                                         "model", "fasta", "config"};

const std::set<std::string> kResourceKeys = {
    "nodes", "ranks_per_node", "gpus_per_node", "cpus_per_rank", "signal_seconds", "time", "partition",
    "account", "qos", "mem", "template", "sbatch", "setup", "srun_flags", "mpirun_flags"};

// The job machinery decides these; a job file must not.
const std::set<std::string> kControlledOptions = {"resume", "overwrite", "force", "help", "log-level"};

const char* const kStageNames[] = {"preprocess", "embed"};

struct RawValue {
  std::string value;
  fs::path base;  // relative paths are relative to this
  int line = 0;   // 0: from the command line
  bool is_path = false;
};

// section -> key -> values (a key may repeat: sbatch, setup)
using RawSection = std::vector<std::pair<std::string, RawValue>>;

class Resolver {
 public:
  Resolver(std::map<std::string, RawSection>& raw, const std::string& file) : raw_(raw), file_(file) {}

  // The value of section.key after ${...} expansion and path resolution (the last one if repeated).
  std::string get(const std::string& section, const std::string& key, int from_line) {
    std::string id = section + "." + key;
    if (auto it = done_.find(id); it != done_.end()) return it->second;
    const RawValue* rv = nullptr;
    if (auto s = raw_.find(section); s != raw_.end())
      for (const auto& [k, v] : s->second)
        if (k == key) rv = &v;
    if (!rv) fail(file_, ":", from_line, ": ${", id, "} names no key of the job file");
    if (!active_.insert(id).second) fail(file_, ":", rv->line, ": ${", id, "} refers to itself");
    std::string v = resolve(*rv);
    active_.erase(id);
    done_[id] = v;
    return v;
  }

  std::string resolve(const RawValue& rv) {
    std::string out;
    const std::string& s = rv.value;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        size_t close = s.find('}', i);
        if (close == std::string::npos) fail(file_, ":", rv.line, ": unclosed ${ in '", s, "'");
        std::string ref = s.substr(i + 2, close - i - 2);
        size_t dot = ref.find('.');
        if (dot == std::string::npos) fail(file_, ":", rv.line, ": ${", ref, "} must be ${section.key}");
        out += get(ref.substr(0, dot), ref.substr(dot + 1), rv.line);
        i = close;
      } else {
        out += s[i];
      }
    }
    if (rv.is_path && !out.empty()) {
      fs::path p(out);
      if (p.is_relative()) p = rv.base / p;
      out = p.lexically_normal().string();
      if (out.size() > 1 && out.back() == '/') out.pop_back();
    }
    return out;
  }

 private:
  std::map<std::string, RawSection>& raw_;
  std::string file_;
  std::map<std::string, std::string> done_;
  std::set<std::string> active_;
};

int parse_int(const std::string& v, const std::string& file, int line, const std::string& key, int min) {
  size_t used = 0;
  long n = 0;
  try {
    n = std::stol(v, &used);
  } catch (...) {
    used = 0;
  }
  if (used != v.size() || v.empty() || n < min || n > 1000000)
    fail(file, ":", line, ": ", key, " must be a whole number >= ", min, ", found '", v, "'");
  return static_cast<int>(n);
}

// Slurm's --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. -1 when it is none of them.
long slurm_time_seconds(const std::string& t) {
  long days = 0;
  std::string rest = t;
  size_t dash = t.find('-');
  std::vector<long> parts;
  auto number = [](const std::string& x, long& out) {
    if (x.empty() || x.find_first_not_of("0123456789") != std::string::npos || x.size() > 9) return false;
    out = std::stol(x);
    return true;
  };
  if (dash != std::string::npos) {
    if (!number(t.substr(0, dash), days)) return -1;
    rest = t.substr(dash + 1);
  }
  size_t start = 0;
  while (true) {
    size_t colon = rest.find(':', start);
    long v = 0;
    if (!number(rest.substr(start, colon == std::string::npos ? std::string::npos : colon - start), v)) return -1;
    parts.push_back(v);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return -1;
  if (dash != std::string::npos) {  // D-H, D-H:M, D-H:M:S
    long h = parts[0], m = parts.size() > 1 ? parts[1] : 0, sec = parts.size() > 2 ? parts[2] : 0;
    return ((days * 24 + h) * 60 + m) * 60 + sec;
  }
  if (parts.size() == 1) return parts[0] * 60;                      // M
  if (parts.size() == 2) return parts[0] * 60 + parts[1];           // M:S
  return (parts[0] * 60 + parts[1]) * 60 + parts[2];                // H:M:S
}

bool is_true(const std::string& v) { return v == "true" || v == "yes" || v == "on"; }
bool is_false(const std::string& v) { return v == "false" || v == "no" || v == "off"; }

}  // namespace

std::vector<std::string> Stage::args() const {
  std::vector<std::string> a;
  for (const auto& o : options) {
    a.push_back("--" + o.key);
    if (!o.flag) a.push_back(o.value);
  }
  return a;
}

const StageOption* Stage::option(const std::string& key) const {
  for (const auto& o : options)
    if (o.key == key) return &o;
  return nullptr;
}

const Stage* Job::find(const std::string& stage_name) const {
  for (const auto& s : stages)
    if (s.name == stage_name) return &s;
  return nullptr;
}

Job parse_job(const std::string& text, const std::string& path, const Overrides& overrides) {
  IniFile ini = parse_ini_text(text, path);
  Job job;
  job.path = fs::absolute(path).lexically_normal().string();
  job.dir = fs::path(job.path).parent_path().string();
  const fs::path cwd = fs::current_path();

  std::map<std::string, RawSection> raw;
  for (const auto& sec : ini.sections) {
    bool known = sec.name == "job";
    for (const char* s : kStageNames) known = known || sec.name == s;
    if (!known) fail(path, ":", sec.line, ": unknown section [", sec.name, "] (expected [job], [preprocess], [embed])");
    for (const auto& e : sec.entries)
      raw[sec.name].push_back({e.key, RawValue{e.value, job.dir, e.line, kPathKeys.count(e.key) > 0}});
  }
  if (!ini.find("job")) fail(path, ": no [job] section (it names the job and its workdir)");

  auto set_value = [&](const std::string& section, const std::string& key, const std::string& value) {
    auto& sec = raw[section];
    std::erase_if(sec, [&](const auto& kv) { return kv.first == key; });
    sec.push_back({key, RawValue{value, cwd, 0, kPathKeys.count(key) > 0}});
  };
  for (const auto& s : overrides.sets) {
    size_t dot = s.find('.'), eq = s.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq)
      fail("--set '", s, "': expected section.key=value");
    set_value(s.substr(0, dot), s.substr(dot + 1, eq - dot - 1), s.substr(eq + 1));
  }
  if (!overrides.workdir.empty()) set_value("job", "workdir", overrides.workdir);

  Resolver r(raw, path);
  auto line_of = [&](const std::string& section, const std::string& key) {
    int line = 0;
    for (const auto& [k, v] : raw[section])
      if (k == key) line = v.line;
    return line;
  };

  // [job]: name, workdir and resource defaults.
  Resources defaults;
  auto apply_resource = [&](Resources& res, const std::string& key, const RawValue& rv) {
    std::string v = r.resolve(rv);
    if (key == "nodes") res.nodes = parse_int(v, path, rv.line, key, 1);
    else if (key == "ranks_per_node") res.ranks_per_node = parse_int(v, path, rv.line, key, 1);
    else if (key == "gpus_per_node") res.gpus_per_node = parse_int(v, path, rv.line, key, 0);
    else if (key == "cpus_per_rank") res.cpus_per_rank = parse_int(v, path, rv.line, key, 0);
    else if (key == "signal_seconds") res.signal_seconds = parse_int(v, path, rv.line, key, 0);
    else if (key == "time") res.time = v;
    else if (key == "partition") res.partition = v;
    else if (key == "account") res.account = v;
    else if (key == "qos") res.qos = v;
    else if (key == "mem") res.mem = v;
    else if (key == "template") res.slurm_template = v;
    else if (key == "sbatch") res.sbatch.push_back(v);
    else if (key == "setup") res.setup.push_back(v);
    else if (key == "srun_flags") res.srun_flags = v;
    else if (key == "mpirun_flags") res.mpirun_flags = v;
  };
  for (const auto& [key, rv] : raw["job"]) {
    if (key == "name") {
      job.name = r.resolve(rv);
    } else if (key == "workdir") {
      job.workdir = r.get("job", "workdir", rv.line);
    } else if (kResourceKeys.count(key)) {
      apply_resource(defaults, key, rv);
    } else {
      fail(path, ":", rv.line, ": unknown key '", key, "' in [job] (name, workdir or a resource key)");
    }
  }
  if (job.name.empty()) fail(path, ": [job] needs 'name'");
  for (char c : job.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      fail(path, ":", line_of("job", "name"), ": job name '", job.name, "' may hold only letters, digits, '-', '_', '.'");
  if (job.workdir.empty()) fail(path, ": [job] needs 'workdir' (where every stage writes)");

  for (const char* stage_name : kStageNames) {
    const IniSection* sec = ini.find(stage_name);
    if (!sec && !raw.count(stage_name)) continue;
    Stage st;
    st.name = stage_name;
    st.kind = st.name == "embed" ? StageKind::Embed : StageKind::Preprocess;
    st.line = sec ? sec->line : 0;
    st.res = defaults;
    // Embed stops cleanly on SIGUSR1, so it gets a warning unless the job file says otherwise.
    if (st.kind == StageKind::Embed &&
        std::none_of(raw["job"].begin(), raw["job"].end(), [](const auto& kv) { return kv.first == "signal_seconds"; }))
      st.res.signal_seconds = 300;
    // A stage that sets sbatch/setup lines replaces the [job] ones rather than adding to them.
    bool own_sbatch = false, own_setup = false;
    for (const auto& [key, rv] : raw[stage_name]) {
      if (kResourceKeys.count(key)) {
        if (key == "sbatch" && !own_sbatch) st.res.sbatch.clear(), own_sbatch = true;
        if (key == "setup" && !own_setup) st.res.setup.clear(), own_setup = true;
        apply_resource(st.res, key, rv);
        continue;
      }
      if (kControlledOptions.count(key))
        fail(path, ":", rv.line, ": '", key, "' is decided by esmpipe run/submit, not the job file");
      if (key.empty() || key[0] == '-' || key.find_first_of(" \t") != std::string::npos)
        fail(path, ":", rv.line, ": '", key, "' is not an option name (write it without leading dashes)");
      StageOption opt;
      opt.key = key;
      opt.line = rv.line;
      std::string v = r.get(stage_name, key, rv.line);
      if (is_true(v)) {
        opt.flag = true;
      } else if (is_false(v)) {
        continue;
      } else {
        if (v.empty()) fail(path, ":", rv.line, ": '", key, "' has no value (use true/false for a flag)");
        opt.value = v;
      }
      std::erase_if(st.options, [&](const StageOption& o) { return o.key == key; });
      st.options.push_back(opt);
    }
    if (!st.res.time.empty()) {
      long limit = slurm_time_seconds(st.res.time);
      int line = line_of(stage_name, "time") ? line_of(stage_name, "time") : line_of("job", "time");
      if (limit < 0)
        fail(path, ":", line, ": time '", st.res.time, "' is not a Slurm time (M, H:M:S, D-H:M:S, ...)");
      // The warning must come before the end, with room to finish a batch.
      if (st.res.signal_seconds > 0 && st.res.signal_seconds >= limit)
        fail(path, ":", st.line, ": [", stage_name, "] signal_seconds (", st.res.signal_seconds,
             ") must be shorter than its time limit (", st.res.time, " = ", limit, " s)");
    }
    const StageOption* out = st.option("out");
    if (!out) fail(path, ":", st.line, ": [", stage_name, "] needs 'out'");
    st.out = out->value;
    if (st.kind == StageKind::Embed) {
      const StageOption* fasta = st.option("fasta");
      if (!fasta) fail(path, ":", st.line, ": [embed] needs 'fasta' (e.g. ${preprocess.out}/uniref50_valid.fasta)");
      if (!st.option("model")) fail(path, ":", st.line, ": [embed] needs 'model' (a model directory)");
      st.input = fasta->value;
    } else {
      for (const char* k : {"uniref50"})
        if (!st.option(k)) fail(path, ":", st.line, ": [preprocess] needs '", k, "'");
    }
    job.stages.push_back(std::move(st));
  }
  if (job.stages.empty()) fail(path, ": no stage: add [preprocess] and/or [embed]");
  return job;
}

Job load_job(const std::string& path, const Overrides& overrides) {
  if (!fs::exists(path)) fail(path, ": job file not found");
  return parse_job(read_file(path), path, overrides);
}

std::string shell_quote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                         "-_./=:,+@%") == std::string::npos)
    return w;
  std::string q = "'";
  for (char c : w) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    if (!s.empty()) s += ' ';
    s += shell_quote(w);
  }
  return s;
}

}  // namespace esm::jobs
