#include "slurm.hpp"

#include <filesystem>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "process.hpp"

#ifndef ESMPIPE_SOURCE_SLURM_DIR
#define ESMPIPE_SOURCE_SLURM_DIR ""
#endif
#ifndef ESMPIPE_INSTALL_SLURM_DIR
#define ESMPIPE_INSTALL_SLURM_DIR ""
#endif

namespace esm::jobs {
namespace fs = std::filesystem;
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string join_lines(const std::vector<std::string>& lines, const std::string& prefix) {
  std::string s;
  for (const auto& l : lines) {
    if (!s.empty()) s += '\n';
    s += prefix + l;
  }
  return s;
}

std::string nonzero(int v) { return v > 0 ? std::to_string(v) : ""; }

// "--workdir D --set a.b=c ..." so a script's status check sees the job as submit saw it.
std::vector<std::string> override_args(const Overrides& o) {
  std::vector<std::string> a;
  if (!o.workdir.empty()) a.insert(a.end(), {"--workdir", fs::absolute(o.workdir).lexically_normal().string()});
  for (const auto& s : o.sets) a.insert(a.end(), {"--set", s});
  return a;
}

}  // namespace

std::string find_template(const Job& job, const Stage& stage) {
  const std::string& name = stage.res.slurm_template;
  if (name.empty())
    fail(job.path, ": [", stage.name, "] has no 'template' (e.g. template = dgx-h100; see slurm/ for the list)");
  if (name.find('/') != std::string::npos) {
    fs::path p(name);
    if (p.is_relative()) p = fs::path(job.dir) / p;
    if (!fs::exists(p)) fail(job.path, ": template ", p.string(), " not found");
    return p.lexically_normal().string();
  }
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ESMPIPE_SLURM_DIR")) dirs.emplace_back(env);
  dirs.push_back(fs::path(job.dir).parent_path() / "slurm");
  if (*ESMPIPE_SOURCE_SLURM_DIR) dirs.emplace_back(ESMPIPE_SOURCE_SLURM_DIR);
  if (*ESMPIPE_INSTALL_SLURM_DIR) dirs.emplace_back(ESMPIPE_INSTALL_SLURM_DIR);
  std::string searched;
  for (const auto& d : dirs) {
    fs::path p = d / (name + ".sbatch");
    if (fs::exists(p)) return p.lexically_normal().string();
    searched += "\n  " + p.string();
  }
  fail(job.path, ": Slurm template '", name, "' not found; looked for:", searched);
}

std::map<std::string, std::string> template_values(const Job& job, const Stage& stage, const Overrides& overrides,
                                                   const std::string& esmpipe, const std::string& template_path) {
  const Resources& r = stage.res;
  std::map<std::string, std::string> v;
  v["job_name"] = job.name;
  v["stage"] = stage.name;
  v["job_file"] = job.path;
  v["workdir"] = job.workdir;
  v["log_dir"] = job.log_dir();
  v["nodes"] = std::to_string(r.nodes);
  v["ranks_per_node"] = std::to_string(r.ranks_per_node);
  v["ranks"] = std::to_string(r.ranks());
  v["gpus_per_node"] = nonzero(r.gpus_per_node);
  v["cpus_per_rank"] = nonzero(r.cpus_per_rank);
  v["signal_seconds"] = nonzero(r.signal_seconds);
  v["time"] = r.time;
  v["partition"] = r.partition;
  v["account"] = r.account;
  v["qos"] = r.qos;
  v["mem"] = r.mem;
  v["sbatch_extra"] = join_lines(r.sbatch, "#SBATCH ");
  v["setup"] = join_lines(r.setup, "");
  v["srun_flags"] = r.srun_flags;
  v["esmpipe"] = shell_quote(esmpipe);
  // The shared shell helpers live next to the template.
  fs::path lib = fs::path(template_path).parent_path() / "esmpipe-stage.sh";
  if (!fs::exists(lib)) fail(lib.string(), ": missing (the sbatch templates source it)");
  v["stage_lib"] = shell_quote(lib.string());
  std::vector<std::string> cmd = {esmpipe, stage.name};
  for (const auto& a : stage.args()) cmd.push_back(a);
  v["stage_command"] = shell_join(cmd);
  v["resume_flag"] = stage.kind == StageKind::Embed ? "--resume" : "";
  std::vector<std::string> state = {esmpipe, "status", job.path, "--stage", stage.name, "--state"};
  for (const auto& a : override_args(overrides)) state.push_back(a);
  v["state_command"] = shell_join(state);
  return v;
}

std::string render_template(const std::string& text, const std::string& template_path,
                            const std::map<std::string, std::string>& values) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string rendered;
    int placeholders = 0, empty = 0;
    size_t pos = 0;
    while (true) {
      size_t open = line.find("{{", pos);
      if (open == std::string::npos) {
        rendered += line.substr(pos);
        break;
      }
      size_t close = line.find("}}", open);
      if (close == std::string::npos) fail(template_path, ":", lineno, ": unclosed {{");
      rendered += line.substr(pos, open - pos);
      std::string key = trim(line.substr(open + 2, close - open - 2));
      auto it = values.find(key);
      if (it == values.end()) fail(template_path, ":", lineno, ": unknown placeholder {{", key, "}}");
      ++placeholders;
      if (it->second.empty()) ++empty;
      rendered += it->second;
      pos = close + 2;
    }
    if (placeholders > 0 && empty == placeholders) continue;
    out += rendered;
    out += '\n';
  }
  return out;
}

std::vector<SubmittedStage> read_submitted(const Job& job) {
  fs::path p = fs::path(job.slurm_dir()) / "submitted.json";
  std::vector<SubmittedStage> out;
  if (!fs::exists(p)) return out;
  json::Value v = json::parse(read_file(p), p.string());
  if (const json::Value* st = v.find("stages"))
    for (const auto& e : st->as_array())
      out.push_back({e.at("stage").as_string(), e.at("job_id").as_string(), e.at("script").as_string()});
  return out;
}

void write_submitted(const Job& job, const std::vector<SubmittedStage>& stages) {
  json::Value v;
  v["job_file"] = job.path;
  v["job_name"] = job.name;
  json::Array arr;
  for (const auto& s : stages) {
    json::Value e;
    e["stage"] = s.stage;
    e["job_id"] = s.job_id;
    e["script"] = s.script;
    arr.push_back(e);
  }
  v["stages"] = arr;
  write_file_atomic(fs::path(job.slurm_dir()) / "submitted.json", v.dump(2) + "\n", /*overwrite=*/true);
}

SlurmJobInfo query_slurm_job(const std::string& id) {
  SlurmJobInfo info;
  auto fields = [](const std::string& line) {
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
      if (c == '|') f.push_back(trim(cur)), cur.clear();
      else cur += c;
    }
    f.push_back(trim(cur));
    return f;
  };
  if (!find_program("squeue").empty()) {
    Captured c = run_capture({"squeue", "-h", "-t", "all", "-j", id, "-o", "%T|%M|%R"}, 20, true);
    std::string line = trim(c.out.substr(0, c.out.find('\n')));
    if (c.status == 0 && !line.empty()) {
      auto f = fields(line);
      if (f.size() >= 3) {
        info = {true, f[0], f[1], f[2], "", "squeue"};
        if (info.state != "COMPLETED" && info.state != "FAILED" && info.state != "CANCELLED" && info.state != "TIMEOUT")
          return info;
      }
    }
  }
  if (!find_program("sacct").empty()) {
    Captured c = run_capture({"sacct", "-n", "-X", "-P", "-j", id, "-o", "State,Elapsed,ExitCode"}, 20, true);
    std::string line = trim(c.out.substr(0, c.out.find('\n')));
    if (c.status == 0 && !line.empty()) {
      auto f = fields(line);
      if (f.size() >= 3) {
        SlurmJobInfo s{true, f[0].substr(0, f[0].find(' ')), f[1], info.reason, f[2], "sacct"};
        return s;
      }
    }
  }
  // Without accounting, scontrol still knows a finished job for MinJobAge seconds.
  if (!find_program("scontrol").empty()) {
    Captured c = run_capture({"scontrol", "show", "job", "-o", id}, 20, true);
    if (c.status == 0 && c.out.find("JobState=") != std::string::npos) {
      auto field = [&](const std::string& key) {
        size_t p = c.out.find(" " + key + "=");
        if (p == std::string::npos) return std::string();
        p += key.size() + 2;
        return c.out.substr(p, c.out.find_first_of(" \n", p) - p);
      };
      SlurmJobInfo s{true, field("JobState"), field("RunTime"), field("Reason"), field("ExitCode"), "scontrol"};
      return s;
    }
  }
  return info;
}

}  // namespace esm::jobs
