#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"

namespace esm {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 1000 && u < 5) { b /= 1000; ++u; }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

std::string human_duration(double s) {
  char buf[32];
  if (s < 0 || s > 1e8) return "?";
  int h = static_cast<int>(s / 3600), m = static_cast<int>(s / 60) % 60, sec = static_cast<int>(s) % 60;
  if (h) std::snprintf(buf, sizeof buf, "%dh%02dm%02ds", h, m, sec);
  else if (m) std::snprintf(buf, sizeof buf, "%dm%02ds", m, sec);
  else std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

Progress::Progress(std::string what, uint64_t total, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total) {
  start_ = last_ = std::chrono::steady_clock::now();
  const char* env = std::getenv("ESMPIPE_PROGRESS_SECONDS");
  interval_ = env ? std::atof(env) : 10.0;
  root_ = mpi::rank() == 0;
  tty_ = root_ && isatty(STDERR_FILENO) && log::level() <= log::Level::Info;
  if (tty_) interval_ = 0.5;
}

Progress::~Progress() {
  if (!finished_ && tty_) std::fputc('\n', stderr);
}

void Progress::add(uint64_t units, uint64_t bytes) {
  done_ += units;
  bytes_ += bytes;
  if (root_) maybe_print(false);
}

void Progress::maybe_print(bool force) {
  auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  double since = std::chrono::duration<double>(now - last_).count();
  if (!force && since < interval_) return;
  last_ = now;
  double el = std::chrono::duration<double>(now - start_).count();
  uint64_t d = done_.load();
  double rate = el > 0 ? d / el : 0;
  std::string line = str(what_, ": ", d);
  if (total_) line += str("/", total_, " ", unit_, str(" (", static_cast<int>(100.0 * d / total_), "%)"));
  else line += str(" ", unit_);
  char buf[64];
  std::snprintf(buf, sizeof buf, ", %.0f %s/s", rate, unit_.c_str());
  line += buf;
  if (bytes_) line += str(", ", human_bytes(bytes_ / (el > 0 ? el : 1)), "/s");
  if (total_ && rate > 0 && d < total_) line += str(", ETA ", human_duration((total_ - d) / rate));
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else if (log::level() <= log::Level::Info) {
    log::write(log::Level::Info, line);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_) std::fputc('\n', stderr);
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  log::info(what_, ": this rank did ", done_.load(), " ", unit_, " in ", human_duration(el),
            bytes_ ? str(" (", human_bytes(bytes_), ")") : std::string());
}

}  // namespace esm
