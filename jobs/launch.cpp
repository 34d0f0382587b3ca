#include "launch.hpp"

#include <unistd.h>

#include <sstream>

#include "core/error.hpp"
#include "process.hpp"

#ifndef ESMPIPE_MPIEXEC
#define ESMPIPE_MPIEXEC ""
#endif

namespace esm::jobs {
namespace {

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

std::string find_mpirun() {
  if (const char* env = std::getenv("ESMPIPE_MPIRUN"); env && *env) return env;
  for (const char* name : {"mpirun", "mpiexec"}) {
    std::string p = find_program(name);
    if (!p.empty()) return p;
  }
  if (*ESMPIPE_MPIEXEC && access(ESMPIPE_MPIEXEC, X_OK) == 0) return ESMPIPE_MPIEXEC;
  fail("mpirun not found on PATH (set ESMPIPE_MPIRUN to the MPI launcher)");
}

bool is_open_mpi(const std::string& mpirun) {
  static std::string cached_for, cached_answer;
  if (cached_for != mpirun) {
    Captured c = run_capture({mpirun, "--version"}, 20);
    cached_for = mpirun;
    cached_answer = (c.out.find("Open MPI") != std::string::npos || c.out.find("OpenRTE") != std::string::npos) ? "1" : "0";
  }
  return cached_answer == "1";
}

}  // namespace

std::vector<std::string> mpirun_command(const Stage& stage, int ranks, const std::vector<std::string>& program) {
  std::string mpirun = find_mpirun();
  std::vector<std::string> cmd = {mpirun, "-n", std::to_string(ranks)};
  if (is_open_mpi(mpirun)) {
    cmd.insert(cmd.end(), {"--bind-to", "none", "--oversubscribe"});
    if (geteuid() == 0) cmd.push_back("--allow-run-as-root");
  }
  if (const char* env = std::getenv("ESMPIPE_MPIRUN_FLAGS"))
    for (const auto& w : split_words(env)) cmd.push_back(w);
  for (const auto& w : split_words(stage.res.mpirun_flags)) cmd.push_back(w);
  cmd.insert(cmd.end(), program.begin(), program.end());
  return cmd;
}

}  // namespace esm::jobs
