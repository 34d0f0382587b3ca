// Runs body(begin, end, thread) over [0, n) in chunks on `threads` threads. Chunks are handed
// out dynamically (sequence lengths vary a lot); callers must not depend on which thread ran
// which chunk for anything that reaches an output.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace esm::cluster {

template <typename Body>
void parallel_for(size_t n, int threads, size_t chunk, Body body) {
  threads = std::max(1, threads);
  chunk = std::max<size_t>(1, chunk);
  if (threads == 1 || n <= chunk) {
    if (n) body(size_t(0), n, 0);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int t) {
    try {
      for (;;) {
        size_t b = next.fetch_add(chunk);
        if (b >= n) break;
        body(b, std::min(n, b + chunk), t);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace esm::cluster
