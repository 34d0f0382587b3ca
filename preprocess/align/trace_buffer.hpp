// One thread's traceback matrix storage, reused from pair to pair (the scalar fills' direction
// bytes, the striped fills' H values or direction bytes).
//
// Grown with headroom and never zeroed (prefault, called once up front, aside): growing to
// exactly each pair's size re-allocated, and page-faulted in, a fresh matrix whenever the next
// pair was slightly larger than every earlier one. On metastudent such pairs (~7,000 x 7,000) ran
// at ~1.4 ns per cell instead of the fill's ~0.24, a twentieth of a clustering run's alignment
// time. A pair needing more than kKeepBytes gets storage of its own, released after the pair
// (release_if_large): one titin-size pair neither pins its matrix for the rest of the run nor
// throws away the kept storage, which smaller pairs would then fault in again.
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
    if (bytes > kKeepBytes) return aligned(oversize_, oversize_capacity_, bytes, bytes);
    // Headroom, but never more than kept.
    return aligned(kept_, capacity_, bytes, std::max(bytes, std::min(capacity_ + capacity_ / 2, kKeepBytes)));
  }
  // The kept storage sized for `bytes` (at most kKeepBytes), every page touched now: a caller
  // that knows its largest pair ahead pays the page faults once, up front, instead of in the
  // middle of parallel work (where growing step by step also faulted the headroom sizes in one
  // after another).
  void prefault(size_t bytes) {
    bytes = std::min(bytes, kKeepBytes);
    if (bytes == 0) return;
    uint8_t* p = reserve(bytes);
    std::memset(p, 0, capacity_);  // reserve() returns capacity_ usable bytes from p
  }
  // Drops the storage of a pair beyond kKeepBytes; the kept storage stays.
  void release_if_large() { oversize_.reset(), oversize_capacity_ = 0; }
  size_t capacity() const { return capacity_; }
  size_t oversize_capacity() const { return oversize_capacity_; }

 private:
  std::unique_ptr<uint8_t[]> kept_, oversize_;  // new uint8_t[n]: default-initialised, not zeroed
  size_t capacity_ = 0, oversize_capacity_ = 0;

  static uint8_t* aligned(std::unique_ptr<uint8_t[]>& data, size_t& capacity, size_t bytes, size_t want) {
    if (bytes > capacity) {
      data.reset();  // the old matrix is not needed: free it before allocating the new one
      data.reset(new uint8_t[want + kAlign]);
      capacity = want;
    }
    const auto at = reinterpret_cast<uintptr_t>(data.get());
    return data.get() + (kAlign - at % kAlign) % kAlign;
  }
};

}  // namespace esm::align
