// A job: one description of the whole pipeline (inputs, output directory, stages with their
// options and resources) that `esmpipe run` executes locally with mpirun and `esmpipe submit`
// turns into a chain of Slurm jobs. See docs/CLUSTER.md for the file format.
#pragma once
#include <string>
#include <vector>

namespace esm::jobs {

enum class StageKind { Preprocess, Embed };

// Where and how a stage runs. [job] holds defaults for every stage; a stage may override each.
struct Resources {
  int nodes = 1;
  int ranks_per_node = 1;
  int gpus_per_node = 0;
  int cpus_per_rank = 0;        // 0: let Slurm decide (no --cpus-per-task)
  int signal_seconds = 0;       // SIGUSR1 this long before the time limit (embed: 300 by default)
  std::string time, partition, account, qos, mem;
  std::string slurm_template;   // name in slurm/ (e.g. dgx-h100) or a path to a .sbatch template
  std::vector<std::string> sbatch;  // extra `#SBATCH` options, one per entry
  std::vector<std::string> setup;   // shell lines before the stage starts (module load ...)
  std::string srun_flags;           // extra srun flags (e.g. --overcommit)
  std::string mpirun_flags;         // extra mpirun flags for local runs
  int ranks() const { return nodes * ranks_per_node; }
};

struct StageOption {
  std::string key;    // without the leading "--"
  std::string value;  // empty for a flag (`key = true`)
  bool flag = false;
  int line = 0;
};

struct Stage {
  StageKind kind = StageKind::Preprocess;
  std::string name;                  // "preprocess" | "embed": also the subcommand
  std::vector<StageOption> options;  // resolved (paths absolute, ${...} expanded), file order
  Resources res;
  std::string out;                   // preprocess: output directory; embed: the store file
  std::string input;                 // embed: the FASTA it reads (often the preprocess output)
  int line = 0;

  // The subcommand's arguments, e.g. {"--uniref50", "/data/u50.fasta.gz", "--seed", "42"}.
  std::vector<std::string> args() const;
  const StageOption* option(const std::string& key) const;
};

struct Job {
  std::string path;     // absolute path of the job file
  std::string dir;      // its directory: relative paths in the file are relative to it
  std::string name;
  std::string workdir;  // absolute
  std::vector<Stage> stages;  // in pipeline order: preprocess before embed

  const Stage* find(const std::string& stage_name) const;
  std::string log_dir() const { return workdir + "/logs"; }
  std::string slurm_dir() const { return workdir + "/slurm"; }
};

// Command-line changes to a job file (esmpipe run/submit/status --workdir / --set).
struct Overrides {
  std::string workdir;            // relative to the current directory
  std::vector<std::string> sets;  // "section.key=value"; path values relative to the current directory
};

// Reads and checks a job file. Throws esm::Error naming file:line for unknown sections or
// resource keys, bad numbers, unresolved ${section.key} references and missing required keys.
Job load_job(const std::string& path, const Overrides& overrides = {});
Job parse_job(const std::string& text, const std::string& path, const Overrides& overrides = {});

// Quotes a word for a POSIX shell when it needs it.
std::string shell_quote(const std::string& word);
std::string shell_join(const std::vector<std::string>& words);

}  // namespace esm::jobs
