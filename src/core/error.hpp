// Errors and message building shared by every module.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace esm {

// A user-facing failure: bad input, missing file, refused overwrite. The message must say
// which file / line / record is at fault; main() prints it and exits non-zero.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// str(a, b, c) concatenates anything that streams; std::format is not in GCC 12.
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str(args...));
}

// Exit codes documented in docs/ARCHITECTURE.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // bad input or runtime failure
  kExitUsage = 2,        // bad command line
  kExitInterrupted = 75  // stopped by SIGTERM/SIGUSR1 after a clean flush; rerun with --resume
};

}  // namespace esm
