// esmpipe status JOB.ini: each stage's state from its outputs, what Slurm says about the jobs
// `esmpipe submit` queued, and the progress of a running embed (sequences, tokens/s, ETA).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "core/error.hpp"
#include "core/json.hpp"
#include "job.hpp"
#include "job_options.hpp"
#include "slurm.hpp"
#include "stage_state.hpp"

namespace esm {
namespace {

std::string grouped(uint64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string hms(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

int cmd_status(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description desc("esmpipe status options");
  po::positional_options_description pos;
  jobs::add_job_options(desc, pos);
  desc.add_options()
      ("state", po::bool_switch(), "print only the state word of the --stage stage: missing, partial, done or mismatch")
      ("json", po::bool_switch(), "print a JSON object")
      ("interval", po::value<double>()->default_value(5),
       "seconds between two reads of a running embed store to measure tokens/s (0: no rate)");
  po::variables_map vm;
  if (!cli::parse(argc, argv, {"status", "esmpipe status JOB.ini [options]",
                               "Shows each stage's state (from its outputs and Slurm) and a running embed's progress."},
                  desc, pos, vm))
    return kExitOk;
  jobs::Job job = jobs::load_job(vm["job"].as<std::string>(), jobs::overrides_from(vm));
  auto stages = jobs::selected_stages(job, vm);

  if (vm["state"].as<bool>()) {
    if (!vm.count("stage")) fail("--state needs --stage");
    std::cout << jobs::state_name(jobs::inspect_stage(*stages.front()).state) << "\n";
    return kExitOk;
  }

  const double interval = vm["interval"].as<double>();
  const bool as_json = vm["json"].as<bool>();
  std::vector<jobs::SubmittedStage> submitted = jobs::read_submitted(job);
  json::Value out;
  out["job"] = job.name;
  out["job_file"] = job.path;
  out["workdir"] = job.workdir;
  json::Array arr;
  if (!as_json) std::cout << "job " << job.name << " (" << job.path << ")\nworkdir " << job.workdir << "\n";
  for (const jobs::Stage* stage : stages) {
    jobs::StageState st = jobs::inspect_stage(*stage);
    json::Value e;
    e["stage"] = stage->name;
    e["state"] = jobs::state_name(st.state);
    e["detail"] = st.detail;
    e["output"] = stage->out;
    std::string slurm_line;
    bool slurm_running = false, slurm_known = false;
    for (const auto& s : submitted) {
      if (s.stage != stage->name) continue;
      jobs::SlurmJobInfo info = jobs::query_slurm_job(s.job_id);
      json::Value sj;
      sj["job_id"] = s.job_id;
      if (info.known) {
        slurm_known = true;
        slurm_running = info.state == "RUNNING" || info.state == "COMPLETING";
        sj["state"] = info.state;
        sj["elapsed"] = info.elapsed;
        sj["reason"] = info.reason;
        sj["exit_code"] = info.exit_code;
        sj["source"] = info.source;
        slurm_line = "Slurm job " + s.job_id + " " + info.state + " " + info.elapsed +
                     (info.reason.empty() || info.reason == "None" ? "" : " (" + info.reason + ")");
      } else {
        sj["state"] = "unknown";
        slurm_line = "Slurm job " + s.job_id + " no longer known to Slurm";
      }
      e["slurm"] = sj;
    }
    std::string progress_line;
    if (st.has_progress) {
      json::Value p;
      p["sequences_done"] = st.seqs_done;
      p["sequences_total"] = st.seqs_total;
      p["tokens_done"] = st.tokens_done;
      p["tokens_total"] = st.tokens_total;
      // A rate needs two reads; only worth the wait when something may be writing.
      std::string rate_text;
      if (st.state == jobs::State::Partial && interval > 0 && (slurm_running || !slurm_known)) {
        auto t0 = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::chrono::duration<double>(interval));
        jobs::StoreProgress again = jobs::read_store_progress(stage->out);
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (again.readable && again.tokens_done >= st.tokens_done) {
          double rate = (again.tokens_done - st.tokens_done) / dt;
          st.seqs_done = again.seqs_done;
          st.tokens_done = again.tokens_done;
          p["sequences_done"] = st.seqs_done;
          p["tokens_done"] = st.tokens_done;
          p["tokens_per_second"] = rate;
          if (rate > 0) {
            double eta = (st.tokens_total - st.tokens_done) / rate;
            p["eta_seconds"] = eta;
            rate_text = ", " + grouped(static_cast<uint64_t>(rate)) + " tokens/s, ETA " + hms(eta);
          } else {
            rate_text = str(", no progress in ", interval, " s");
          }
        }
      }
      double pct = st.seqs_total ? 100.0 * st.seqs_done / st.seqs_total : 100.0;
      char pbuf[32];
      std::snprintf(pbuf, sizeof pbuf, "%.1f%%", pct);
      progress_line = grouped(st.seqs_done) + "/" + grouped(st.seqs_total) + " sequences (" + pbuf + "), " +
                      grouped(st.tokens_done) + "/" + grouped(st.tokens_total) + " tokens" + rate_text;
      e["progress"] = p;
    }
    arr.push_back(e);
    if (!as_json) {
      std::string name = stage->name, state = jobs::state_name(st.state);
      name.resize(11, ' ');
      state.resize(9, ' ');
      std::cout << name << state << st.detail << "\n";
      if (!slurm_line.empty()) std::cout << "           " << slurm_line << "\n";
      if (!progress_line.empty() && st.state != jobs::State::Done) std::cout << "           " << progress_line << "\n";
    }
  }
  out["stages"] = arr;
  if (as_json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace esm
