// esmpipe run JOB.ini: the job's stages in order on this machine, each under mpirun.
// A stage whose outputs say it is done is skipped; an interrupted embed is resumed.
#include <filesystem>
#include <iostream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "job.hpp"
#include "job_options.hpp"
#include "launch.hpp"
#include "process.hpp"
#include "stage_state.hpp"

namespace esm {

int cmd_run(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description desc("esmpipe run options");
  po::positional_options_description pos;
  jobs::add_job_options(desc, pos);
  desc.add_options()
      ("ranks", po::value<int>()->default_value(0), "MPI ranks per stage (default: the stage's nodes x ranks_per_node)")
      ("force", po::bool_switch(), "redo stages that are done (preprocess --force, embed --overwrite)")
      ("dry-run", po::bool_switch(), "print what would run and why, run nothing");
  po::variables_map vm;
  if (!cli::parse(argc, argv, {"run", "esmpipe run JOB.ini [options]",
                               "Runs the job's stages in order on this machine with mpirun, skipping finished ones."},
                  desc, pos, vm))
    return kExitOk;
  const int ranks_override = vm["ranks"].as<int>();
  if (ranks_override < 0) fail("--ranks must be >= 1");
  const bool force = vm["force"].as<bool>(), dry = vm["dry-run"].as<bool>();

  jobs::Job job = jobs::load_job(vm["job"].as<std::string>(), jobs::overrides_from(vm));
  if (!dry) std::filesystem::create_directories(job.workdir);
  const std::string self = jobs::self_executable();
  log::info("job ", job.name, " (", job.path, "), workdir ", job.workdir);

  for (const jobs::Stage* stage : jobs::selected_stages(job, vm)) {
    jobs::StageState st = jobs::inspect_stage(*stage);
    if (st.state == jobs::State::Done && !force) {
      log::info(stage->name, ": done, skipped (", st.detail, ")");
      continue;
    }
    if (st.state == jobs::State::Mismatch && !force)
      fail(stage->name, ": ", stage->out, " was ", st.detail, "; pass --force to redo it");
    std::vector<std::string> program = {self, stage->name};
    for (const auto& a : stage->args()) program.push_back(a);
    if (stage->kind == jobs::StageKind::Embed) {
      if (force) program.push_back("--overwrite");
      else if (st.state == jobs::State::Partial) program.push_back("--resume");
      if (!dry && !std::filesystem::exists(stage->input))
        fail(stage->name, ": input ", stage->input, " does not exist (run the preprocess stage first?)");
    } else if (force) {
      program.push_back("--force");
    }
    const int ranks = ranks_override > 0 ? ranks_override : stage->res.ranks();
    std::vector<std::string> cmd = jobs::mpirun_command(*stage, ranks, program);
    log::info(stage->name, ": ", jobs::state_name(st.state), " (", st.detail, "), running on ", ranks, " rank",
              ranks == 1 ? "" : "s", ":\n  ", jobs::shell_join(cmd));
    if (dry) continue;
    int rc = jobs::run_forwarding_signals(cmd);
    if (rc == kExitInterrupted || (jobs::interrupted() && rc != 0)) {
      log::warn(stage->name, ": interrupted (exit ", rc, "); run the same command again to resume");
      return kExitInterrupted;
    }
    if (rc != 0) fail(stage->name, ": failed with exit code ", rc, " (command above)");
    jobs::StageState after = jobs::inspect_stage(*stage);
    if (after.state != jobs::State::Done)
      fail(stage->name, ": exited 0 but its outputs are not complete (", after.detail, ")");
    log::info(stage->name, ": done (", after.detail, ")");
  }
  return kExitOk;
}

}  // namespace esm
