#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace esm::log {
namespace {
Level g_level = [] {
  const char* env = std::getenv("ESMPIPE_LOG");
  return env ? parse_level(env) : Level::Info;
}();
int g_rank = 0, g_size = 1;
std::mutex g_mutex;
const auto g_start = std::chrono::steady_clock::now();
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

Level parse_level(const std::string& n) {
  if (n == "debug") return Level::Debug;
  if (n == "info") return Level::Info;
  if (n == "warn" || n == "warning") return Level::Warn;
  if (n == "error") return Level::Error;
  if (n == "quiet") return Level::Quiet;
  throw Error(str("unknown log level '", n, "' (use debug, info, warn, error or quiet)"));
}

void set_rank(int rank, int size) { g_rank = rank; g_size = size; }

void write(Level l, const std::string& msg) {
  static const char* names[] = {"debug", "info", "WARN", "ERROR", ""};
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "[%8.2fs %d/%d %s] %s\n", t, g_rank, g_size, names[static_cast<int>(l)], msg.c_str());
  std::fflush(stderr);
}

void info0(const std::string& msg) {
  if (g_rank == 0 && level() <= Level::Info) write(Level::Info, msg);
}

}  // namespace esm::log
