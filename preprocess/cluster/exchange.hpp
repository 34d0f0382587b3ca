// All-to-all of fixed-size records (one vector per destination rank) over
// esm::mpi::alltoall_bytes. Records must be trivially copyable; they travel as raw bytes
// between ranks of one job, which share one binary and one byte order.
#pragma once
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/mpi_env.hpp"

namespace esm::cluster {

// Sends outbox[r] to rank r (and clears the outbox); returns everything received, in source
// rank order, so the result does not depend on message timing.
template <typename T>
std::vector<T> exchange(std::vector<std::vector<T>>& outbox) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<std::string> send(outbox.size());
  for (size_t r = 0; r < outbox.size(); ++r) {
    send[r].resize(outbox[r].size() * sizeof(T));
    if (!outbox[r].empty()) std::memcpy(send[r].data(), outbox[r].data(), send[r].size());
    std::vector<T>().swap(outbox[r]);
  }
  std::vector<std::string> recv = esm::mpi::alltoall_bytes(send);
  send.clear();
  size_t total = 0;
  for (const auto& b : recv) total += b.size() / sizeof(T);
  std::vector<T> out(total);
  size_t at = 0;
  for (auto& b : recv) {
    if (!b.empty()) std::memcpy(static_cast<void*>(out.data() + at), b.data(), b.size());
    at += b.size() / sizeof(T);
    std::string().swap(b);
  }
  return out;
}

}  // namespace esm::cluster

namespace esm::cluster {

// As exchange(), but keeps what came from each rank apart (for request/reply patterns).
template <typename T>
std::vector<std::vector<T>> exchange_by_rank(std::vector<std::vector<T>>& outbox) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<std::string> send(outbox.size());
  for (size_t r = 0; r < outbox.size(); ++r) {
    send[r].resize(outbox[r].size() * sizeof(T));
    if (!outbox[r].empty()) std::memcpy(send[r].data(), outbox[r].data(), send[r].size());
    std::vector<T>().swap(outbox[r]);
  }
  std::vector<std::string> recv = esm::mpi::alltoall_bytes(send);
  std::vector<std::vector<T>> out(recv.size());
  for (size_t r = 0; r < recv.size(); ++r) {
    out[r].resize(recv[r].size() / sizeof(T));
    if (!recv[r].empty()) std::memcpy(static_cast<void*>(out[r].data()), recv[r].data(), recv[r].size());
    std::string().swap(recv[r]);
  }
  return out;
}

}  // namespace esm::cluster
