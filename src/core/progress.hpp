// Rank-0 progress: count, rate and ETA, redrawn in place on a TTY, a log line every few
// seconds otherwise (ESMPIPE_PROGRESS_SECONDS, default 10). Other ranks count silently;
// each rank's final total goes to the log via finish().
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace esm {

class Progress {
 public:
  // total: this rank's expected units (0 if unknown); rank 0 scales its ETA by its own share.
  Progress(std::string what, uint64_t total, std::string unit);
  ~Progress();
  void add(uint64_t units, uint64_t bytes = 0);  // thread-safe
  void set_total(uint64_t total) { total_ = total; }
  uint64_t done() const { return done_.load(); }
  // Logs what this rank did (every rank) and ends the live line.
  void finish();

 private:
  void maybe_print(bool force);
  std::string what_, unit_;
  std::atomic<uint64_t> done_{0}, bytes_{0};
  uint64_t total_;
  std::chrono::steady_clock::time_point start_, last_;
  double interval_;
  bool tty_, root_, finished_ = false;
  std::mutex mutex_;
};

std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace esm
