// esmpipe submit JOB.ini: one sbatch script per stage from the templates in slurm/, submitted as
// a chain (afterok, kill-on-invalid-dep), job IDs printed and recorded for esmpipe status.
#include <filesystem>
#include <iostream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "job.hpp"
#include "job_options.hpp"
#include "process.hpp"
#include "slurm.hpp"
#include "stage_state.hpp"

namespace esm {
namespace fs = std::filesystem;

int cmd_submit(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description desc("esmpipe submit options");
  po::positional_options_description pos;
  jobs::add_job_options(desc, pos);
  desc.add_options()
      ("dry-run", po::bool_switch(), "print the sbatch scripts and commands, submit nothing")
      ("after", po::value<std::string>(), "make the first job of the chain wait for this Slurm job ID (afterok)");
  po::variables_map vm;
  if (!cli::parse(argc, argv, {"submit", "esmpipe submit JOB.ini [--dry-run] [options]",
                               "Submits the job's stages as a chain of Slurm jobs (one sbatch script per stage)."},
                  desc, pos, vm))
    return kExitOk;
  const bool dry = vm["dry-run"].as<bool>();
  const jobs::Overrides overrides = jobs::overrides_from(vm);
  jobs::Job job = jobs::load_job(vm["job"].as<std::string>(), overrides);
  const std::string self = jobs::self_executable();

  // Render everything first: a template error must not leave half a chain queued.
  struct Planned {
    const jobs::Stage* stage;
    std::string path, text;
  };
  std::vector<Planned> plan;
  for (const jobs::Stage* stage : jobs::selected_stages(job, vm)) {
    jobs::StageState st = jobs::inspect_stage(*stage);
    if (st.state == jobs::State::Done && !dry) {
      log::info(stage->name, ": done (", st.detail, "), not submitted");
      continue;
    }
    std::string tpl = jobs::find_template(job, *stage);
    std::string text = jobs::render_template(read_file(tpl), tpl, jobs::template_values(job, *stage, overrides, self, tpl));
    plan.push_back({stage, job.slurm_dir() + "/" + job.name + "-" + stage->name + ".sbatch", text});
  }
  if (plan.empty()) {
    log::info("nothing to submit: every stage is done");
    return kExitOk;
  }

  if (dry) {
    std::string prev;
    for (size_t i = 0; i < plan.size(); ++i) {
      std::cout << "# ---- " << plan[i].stage->name << ": " << plan[i].path << "\n" << plan[i].text;
      std::string dep = i == 0 ? (vm.count("after") ? vm["after"].as<std::string>() : "") : "<job id of " + prev + ">";
      std::cout << "# submit: sbatch --parsable"
                << (dep.empty() ? "" : " --dependency=afterok:" + dep + " --kill-on-invalid-dep=yes") << " "
                << plan[i].path << "\n";
      prev = plan[i].stage->name;
    }
    return kExitOk;
  }

  if (jobs::find_program("sbatch").empty()) fail("sbatch not found on PATH: is this a Slurm login node?");
  fs::create_directories(job.slurm_dir());
  fs::create_directories(job.log_dir());  // Slurm does not create the --output directory
  for (const auto& p : plan) write_file_atomic(p.path, p.text, /*overwrite=*/true);

  std::vector<jobs::SubmittedStage> submitted;
  std::string dep = vm.count("after") ? vm["after"].as<std::string>() : "";
  for (const auto& p : plan) {
    std::vector<std::string> cmd = {"sbatch", "--parsable"};
    if (!dep.empty()) cmd.insert(cmd.end(), {"--dependency=afterok:" + dep, "--kill-on-invalid-dep=yes"});
    cmd.push_back(p.path);
    jobs::Captured c = jobs::run_capture(cmd, 60);
    std::string id = c.out.substr(0, c.out.find_first_of(";\n"));
    if (c.status != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
      // Leave no orphaned half chain behind.
      for (const auto& s : submitted) jobs::run_capture({"scancel", s.job_id}, 30);
      fail(p.stage->name, ": sbatch failed (exit ", c.status, ")", submitted.empty() ? "" : "; cancelled the jobs already submitted",
           ": ", jobs::shell_join(cmd));
    }
    submitted.push_back({p.stage->name, id, p.path});
    log::info(p.stage->name, ": submitted Slurm job ", id, dep.empty() ? "" : " (after " + dep + ")", ", log ",
              job.log_dir(), "/", job.name, "-", p.stage->name, "-", id, ".out");
    dep = id;
  }
  jobs::write_submitted(job, submitted);
  for (size_t i = 0; i < submitted.size(); ++i) std::cout << (i ? " " : "") << submitted[i].job_id;
  std::cout << "\n";
  return kExitOk;
}

}  // namespace esm
