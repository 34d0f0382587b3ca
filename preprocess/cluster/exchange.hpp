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

// Sends outbox[r] to rank r (and clears the outbox); returns what came from each rank apart,
// indexed by source rank (for request/reply patterns).
template <typename T>
std::vector<std::vector<T>> exchange_by_rank(std::vector<std::vector<T>>& outbox) {
  static_assert(std::is_trivially_copyable_v<T>);
  // This rank's own records stay where they are: no copies through MPI (on one rank, that is
  // all of them: 5 copies of 120 MB of k-mer tuples for 200,000 proteins).
  const size_t me = size_t(esm::mpi::rank());
  std::vector<T> own = std::move(outbox[me]);
  outbox[me].clear();
  std::vector<std::string> send(outbox.size());
  for (size_t r = 0; r < outbox.size(); ++r) {
    send[r].resize(outbox[r].size() * sizeof(T));
    if (!outbox[r].empty()) std::memcpy(send[r].data(), outbox[r].data(), send[r].size());
    std::vector<T>().swap(outbox[r]);
  }
  std::vector<std::string> recv = esm::mpi::alltoall_bytes(send);
  send.clear();
  std::vector<std::vector<T>> out(recv.size());
  for (size_t r = 0; r < recv.size(); ++r) {
    out[r].resize(recv[r].size() / sizeof(T));
    if (!recv[r].empty()) std::memcpy(static_cast<void*>(out[r].data()), recv[r].data(), recv[r].size());
    std::string().swap(recv[r]);
  }
  out[me] = std::move(own);
  return out;
}

// Sends outbox[r] to rank r (and clears the outbox); returns everything received, in source
// rank order, so the result does not depend on message timing.
template <typename T>
std::vector<T> exchange(std::vector<std::vector<T>>& outbox) {
  std::vector<std::vector<T>> by_rank = exchange_by_rank(outbox);
  size_t total = 0, nonempty = 0;
  for (const auto& v : by_rank) total += v.size(), nonempty += !v.empty();
  if (nonempty <= 1)
    for (auto& v : by_rank)
      if (v.size() == total) return std::move(v);
  std::vector<T> out;
  out.reserve(total);
  for (auto& v : by_rank) {
    out.insert(out.end(), v.begin(), v.end());
    std::vector<T>().swap(v);
  }
  return out;
}

}  // namespace esm::cluster
