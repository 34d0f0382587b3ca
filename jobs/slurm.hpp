// Slurm: sbatch scripts rendered from the templates in slurm/, the chain submission, and what
// squeue/sacct/scontrol say about the submitted jobs.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "job.hpp"

namespace esm::jobs {

// The template file a stage uses: `template = NAME` looks for NAME.sbatch in $ESMPIPE_SLURM_DIR,
// <job file dir>/../slurm, the source tree's slurm/ and <prefix>/share/esmpipe/slurm; a value
// with a '/' is a path (relative to the job file). Throws listing the places searched.
std::string find_template(const Job& job, const Stage& stage);

// The placeholders a template may use, with this stage's values.
std::map<std::string, std::string> template_values(const Job& job, const Stage& stage, const Overrides& overrides,
                                                   const std::string& esmpipe, const std::string& template_path);

// {{name}} substitution. A line whose placeholders are all empty-valued disappears (so an unset
// partition or account drops its #SBATCH line); multi-line values expand to several lines.
// Unknown placeholders are an error naming the template line.
std::string render_template(const std::string& text, const std::string& template_path,
                            const std::map<std::string, std::string>& values);

struct SubmittedStage {
  std::string stage, job_id, script;
};

// workdir/slurm/submitted.json: the last chain submitted for this job.
std::vector<SubmittedStage> read_submitted(const Job& job);
void write_submitted(const Job& job, const std::vector<SubmittedStage>& stages);

// One job's state as Slurm reports it (squeue first, then sacct, then scontrol).
struct SlurmJobInfo {
  bool known = false;
  std::string state;    // PENDING, RUNNING, COMPLETED, FAILED, ...
  std::string elapsed;  // e.g. 0:05:12
  std::string reason;   // pending reason or node list
  std::string exit_code;
  std::string source;   // which command answered
};
SlurmJobInfo query_slurm_job(const std::string& job_id);

}  // namespace esm::jobs
