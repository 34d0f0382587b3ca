#include "store/duplicate_ids.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"

namespace esm::store {
namespace {

// FNV-1a: the partition must be the same function on every rank and every run.
uint64_t id_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Variable-length messages over MPI_Alltoallv in chunks below the int count limit would add
// code for a case (> 2 GB of IDs to one rank) far beyond any input; the counts are checked.
std::vector<char> exchange_ids(const std::vector<std::string>& send, MPI_Comm comm) {
  int size = int(send.size());
  std::vector<int> scount(size), rcount(size), sdispl(size), rdispl(size);
  uint64_t stotal = 0;
  for (int r = 0; r < size; ++r) {
    if (send[r].size() > uint64_t(INT32_MAX) / 2) fail("internal: too many IDs for one rank's duplicate check");
    scount[r] = int(send[r].size());
    sdispl[r] = int(stotal);
    stotal += send[r].size();
    if (stotal > uint64_t(INT32_MAX)) fail("internal: too many IDs for one rank's duplicate check");
  }
  MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, comm);
  uint64_t rtotal = 0;
  for (int r = 0; r < size; ++r) {
    rdispl[r] = int(rtotal);
    rtotal += uint64_t(rcount[r]);
    if (rtotal > uint64_t(INT32_MAX)) fail("internal: too many IDs for one rank's duplicate check");
  }
  std::string flat;
  flat.reserve(stotal);
  for (const auto& s : send) flat += s;
  std::vector<char> recv(std::max<uint64_t>(rtotal, 1));
  MPI_Alltoallv(flat.data(), scount.data(), sdispl.data(), MPI_BYTE, recv.data(), rcount.data(), rdispl.data(),
                MPI_BYTE, comm);
  recv.resize(rtotal);
  return recv;
}

}  // namespace

void refuse_duplicate_ids(const std::vector<std::string>& ids, uint64_t first, const std::string& path, MPI_Comm comm) {
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  // Message per ID: 8-byte global index, the ID, '\n' (an ID is one word: no newline inside).
  std::vector<std::string> send(static_cast<size_t>(size));
  for (size_t j = 0; j < ids.size(); ++j) {
    std::string& m = send[id_hash(ids[j]) % uint64_t(size)];
    uint64_t index = first + j;
    m.append(reinterpret_cast<const char*>(&index), 8);
    m += ids[j];
    m += '\n';
  }
  const std::vector<char> recv = exchange_ids(send, comm);
  send.clear();

  // Among the IDs this rank owns: the repeat with the smallest index, and the first occurrence.
  // Messages arrive by source rank, each in input order, so indices arrive increasing.
  std::unordered_map<std::string_view, uint64_t> first_seen;
  uint64_t best_repeat = UINT64_MAX, best_first = 0;
  std::string_view best_id;
  for (size_t p = 0; p < recv.size();) {
    uint64_t index;
    std::memcpy(&index, recv.data() + p, 8);
    const char* s = recv.data() + p + 8;
    size_t len = size_t(static_cast<const char*>(std::memchr(s, '\n', recv.size() - p - 8)) - s);
    std::string_view id(s, len);
    p += 8 + len + 1;
    auto [it, fresh] = first_seen.emplace(id, index);
    if (fresh) continue;
    uint64_t a = std::min(it->second, index), b = std::max(it->second, index);
    it->second = a;
    if (b < best_repeat) {
      best_repeat = b;
      best_id = id;
    }
  }
  // The repeat's first occurrence is final only once every occurrence has been seen.
  if (best_repeat != UINT64_MAX) best_first = first_seen.at(best_id);

  uint64_t global_repeat = 0;
  MPI_Allreduce(&best_repeat, &global_repeat, 1, MPI_UINT64_T, MPI_MIN, comm);
  if (global_repeat == UINT64_MAX) return;
  // One rank owns that ID (all its occurrences hash to one rank); it tells the others.
  std::string message;
  if (best_repeat == global_repeat)
    message = str(path, ": duplicate ID '", best_id, "' in records ", best_first + 1, " and ", best_repeat + 1,
                  " (store rows are looked up by ID; IDs must be unique)");
  int owner = best_repeat == global_repeat ? rank : size, root = size;
  MPI_Allreduce(&owner, &root, 1, MPI_INT, MPI_MIN, comm);
  uint64_t len = message.size();
  MPI_Bcast(&len, 1, MPI_UINT64_T, root, comm);
  message.resize(len);
  MPI_Bcast(message.data(), int(len), MPI_BYTE, root, comm);
  if (rank != 0) log::set_level(log::Level::Quiet);  // rank 0 reports it
  throw Error(message);
}

}  // namespace esm::store
