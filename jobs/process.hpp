// Starting the programs a job needs (mpirun, sbatch, squeue, ...) as child processes.
#pragma once
#include <string>
#include <vector>

namespace esm::jobs {

// The directory-searched path of a program, or "" when it is not on PATH.
std::string find_program(const std::string& name);

// The path of the running esmpipe binary (so child stages run the same build).
std::string self_executable();

// Runs argv to completion with stdout/stderr inherited and returns its exit status (128+signal
// when killed). SIGINT/SIGTERM/SIGUSR1 received meanwhile are passed on to the child as SIGUSR1
// (SIGINT as SIGINT), so an embed under mpirun flushes and exits 75 instead of being killed.
// The child's environment is ours minus the variables an MPI launcher set for *this* process
// (a singleton esmpipe must not make mpirun think it runs inside another MPI job).
int run_forwarding_signals(const std::vector<std::string>& argv);

// Runs argv, returns its stdout and exit status; kills it after timeout_s. stderr is inherited,
// or discarded with quiet_stderr (queries whose complaints we report ourselves).
struct Captured {
  int status = -1;
  std::string out;
  bool timed_out = false;
};
Captured run_capture(const std::vector<std::string>& argv, double timeout_s = 60, bool quiet_stderr = false);

// True once SIGINT/SIGTERM/SIGUSR1 reached us during run_forwarding_signals.
bool interrupted();

}  // namespace esm::jobs
