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

// std::sort on `threads` threads: equal slices sorted in parallel, then merged. The result is
// the unique sorted order when `less` is a strict total order (or equal elements are
// identical), so it does not depend on the thread count.
template <typename It, typename Less>
void parallel_sort(It first, It last, Less less, int threads) {
  const size_t n = size_t(last - first);
  threads = std::max(1, std::min(threads, int(n / 65536)));
  if (threads <= 1) {
    std::sort(first, last, less);
    return;
  }
  std::vector<size_t> cut(threads + 1);
  for (int t = 0; t <= threads; ++t) cut[t] = n * size_t(t) / size_t(threads);
  parallel_for(size_t(threads), threads, 1, [&](size_t b, size_t e, int) {
    for (size_t t = b; t < e; ++t) std::sort(first + cut[t], first + cut[t + 1], less);
  });
  for (size_t width = 1; width < size_t(threads); width *= 2)
    for (size_t t = 0; t + width < size_t(threads); t += 2 * width)
      std::inplace_merge(first + cut[t], first + cut[t + width], first + cut[std::min(size_t(threads), t + 2 * width)], less);
}

}  // namespace esm::cluster
