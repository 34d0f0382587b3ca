#include "job_options.hpp"

#include "core/error.hpp"

namespace esm::jobs {

void add_job_options(cli::po::options_description& desc, cli::po::positional_options_description& pos) {
  namespace po = cli::po;
  desc.add_options()
      ("job", po::value<std::string>()->required(), "the job file (INI; see jobs/demo.ini)")
      ("stage", po::value<std::string>(), "only this stage (preprocess or embed)")
      ("workdir", po::value<std::string>(), "use this output directory instead of the job's [job] workdir")
      ("set", po::value<std::vector<std::string>>()->composing(),
       "override a job file value: section.key=value (repeatable), e.g. --set embed.device=cpu");
  pos.add("job", 1);
}

Overrides overrides_from(const cli::po::variables_map& vm) {
  Overrides o;
  if (vm.count("workdir")) o.workdir = vm["workdir"].as<std::string>();
  if (vm.count("set")) o.sets = vm["set"].as<std::vector<std::string>>();
  return o;
}

std::vector<const Stage*> selected_stages(const Job& job, const cli::po::variables_map& vm) {
  std::vector<const Stage*> out;
  if (vm.count("stage")) {
    const std::string& name = vm["stage"].as<std::string>();
    const Stage* s = job.find(name);
    if (!s) fail(job.path, ": the job has no [", name, "] stage");
    out.push_back(s);
  } else {
    for (const auto& s : job.stages) out.push_back(&s);
  }
  return out;
}

}  // namespace esm::jobs
