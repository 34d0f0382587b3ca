// Options every job subcommand shares: the job file, --workdir, --set, --stage.
#pragma once
#include <string>
#include <vector>

#include "core/options.hpp"
#include "job.hpp"

namespace esm::jobs {

void add_job_options(cli::po::options_description& desc, cli::po::positional_options_description& pos);
Overrides overrides_from(const cli::po::variables_map& vm);
// The stages to act on: all of the job's, or the one --stage names (an error if it has none).
std::vector<const Stage*> selected_stages(const Job& job, const cli::po::variables_map& vm);

}  // namespace esm::jobs
