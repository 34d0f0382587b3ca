#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/error.hpp"

extern char** environ;

namespace esm::jobs {
namespace fs = std::filesystem;
namespace {

std::atomic<pid_t> g_child{0};
std::atomic<bool> g_interrupted{false};

void forward_signal(int sig) {
  g_interrupted = true;
  pid_t c = g_child.load();
  // mpirun passes SIGUSR1 on to every rank; a rank's SIGTERM handler would not get a TERM
  // through mpirun intact (mpirun kills on TERM), so graceful stop requests travel as USR1.
  if (c > 0) kill(c, sig == SIGINT ? SIGINT : SIGUSR1);
}

// Variables an MPI launcher or an OpenMPI singleton sets for its own process; a child mpirun
// that sees them believes it runs inside that job.
bool launcher_variable(const char* kv) {
  static const char* const prefixes[] = {"PMIX_", "PMI_", "OMPI_COMM_WORLD_", "OMPI_MCA_orte_", "OMPI_MCA_ess_",
                                         "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir", "OMPI_UNIVERSE_SIZE",
                                         "OMPI_FIRST_RANKS", "OMPI_APP_CTX_NUM_PROCS", "OMPI_NUM_APP_CTX",
                                         "OMPI_ARGV", "OMPI_COMMAND", "OMPI_FILE_LOCATION", "OMPI_MCA_ess",
                                         "OMPI_MCA_plm", "OMPI_MCA_shmem_RUNTIME_QUERY_hint", "OMPI_NUM_APP",
                                         "OMPI_APP_CTX"};
  for (const char* p : prefixes)
    if (!std::strncmp(kv, p, std::strlen(p))) return true;
  return false;
}

std::vector<char*> clean_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e)
    if (!launcher_variable(*e)) env.push_back(*e);
  env.push_back(nullptr);
  return env;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  return a;
}

int exit_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

pid_t spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t* actions) {
  if (argv.empty()) fail("internal: empty command");
  std::string prog = argv[0].find('/') == std::string::npos ? find_program(argv[0]) : argv[0];
  if (prog.empty()) fail(argv[0], ": not found on PATH");
  auto args = c_argv(argv);
  auto env = clean_environment();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, prog.c_str(), actions, nullptr, args.data(), env.data());
  if (rc != 0) fail("cannot start ", prog, ": ", std::strerror(rc));
  return pid;
}

}  // namespace

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    fs::path dir = p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    fs::path cand = (dir.empty() ? fs::path(".") : dir) / name;
    if (access(cand.c_str(), X_OK) == 0 && !fs::is_directory(cand)) return cand.string();
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

std::string self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot find the esmpipe executable (/proc/self/exe): ", ec.message());
  return p.string();
}

bool interrupted() { return g_interrupted.load(); }

int run_forwarding_signals(const std::vector<std::string>& argv) {
  struct sigaction sa {}, old_int {}, old_term {}, old_usr1 {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGUSR1, &sa, &old_usr1);
  pid_t pid = spawn(argv, nullptr);
  g_child = pid;
  if (g_interrupted) kill(pid, SIGUSR1);  // a signal that came while we were starting it
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  return exit_status(st);
}

Captured run_capture(const std::vector<std::string>& argv, double timeout_s, bool quiet_stderr) {
  Captured c;
  int fds[2];
  if (pipe(fds) != 0) fail("pipe: ", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (quiet_stderr) posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  pid_t pid;
  try {
    pid = spawn(argv, &actions);
  } catch (...) {
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[4096];
  bool open = true;
  while (open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      c.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno != EINTR) break;
    if (r > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) c.out.append(buf, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR) open = false;
    }
  }
  close(fds[0]);
  // The child may outlive its stdout; it still gets no more than the deadline.
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline && !c.timed_out) {
      c.timed_out = true;
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  c.status = c.timed_out ? 124 : exit_status(st);
  return c;
}

}  // namespace esm::jobs
