// One thread's traceback matrix storage, reused from pair to pair (the scalar fills' direction
// bytes, the striped fill's H values).
//
// Grown with headroom and never zeroed (prefault, called once up front, aside): growing to exactly each pair's size re-allocated, and
// page-faulted in, a fresh matrix whenever the next pair was slightly larger than every earlier
// one. On metastudent such pairs (~7,000 x 7,000) ran at ~1.4 ns per cell instead of the fill's
// ~0.24, a twentieth of a clustering run's alignment time. Storage beyond kKeepBytes is released
// after the pair (release_if_large), so one titin-size pair does not pin its matrix for the rest
// of the run.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace esm::align {

class TraceBuffer {
 public:
  static constexpr size_t kKeepBytes = size_t(256) << 20;
  static constexpr size_t kAlign = 32;  // for aligned vector loads and stores

  // At least `bytes` of storage, kAlign-aligned; the contents are whatever was there.
  uint8_t* reserve(size_t bytes) {
    if (bytes > capacity_) {
      // Headroom, but never more than kept anyway: a larger buffer is dropped after its pair.
      size_t want = std::max(bytes, std::min(capacity_ + capacity_ / 2, kKeepBytes));
      data_.reset();  // the old matrix is not needed: free it before allocating the new one
      data_.reset(new uint8_t[want + kAlign]);
      capacity_ = want;
    }
    const auto at = reinterpret_cast<uintptr_t>(data_.get());
    return data_.get() + (kAlign - at % kAlign) % kAlign;
  }
  // Storage for `bytes` (at most kKeepBytes), every page touched now: a caller that knows its
  // largest pair ahead pays the page faults once, up front, instead of in the middle of parallel
  // work (where growing step by step also faulted the headroom sizes in one after another).
  void prefault(size_t bytes) {
    bytes = std::min(bytes, kKeepBytes);
    if (bytes == 0) return;
    uint8_t* p = reserve(bytes);
    std::memset(p, 0, capacity_ - size_t(p - data_.get()));
  }
  void release_if_large() {
    if (capacity_ > kKeepBytes) data_.reset(), capacity_ = 0;
  }
  size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<uint8_t[]> data_;  // new uint8_t[n]: default-initialised, not zeroed
  size_t capacity_ = 0;
};

}  // namespace esm::align
