#include "core/mpi_env.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/error.hpp"
#include "core/log.hpp"

namespace esm::mpi {
namespace {
MPI_Comm g_comm = MPI_COMM_NULL;
int g_rank = 0, g_size = 1;

// MPI counts are int; large buffers go in pieces of this many bytes.
constexpr size_t kMaxChunk = size_t(1) << 30;

void check_int(size_t n, const char* what) {
  if (n > static_cast<size_t>(std::numeric_limits<int>::max()))
    fail("internal: ", what, " of ", n, " bytes exceeds one MPI message");
}
}  // namespace

Session::Session(int* argc, char*** argv) {
  int already = 0;
  MPI_Initialized(&already);
  if (!already) MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_comm);
  MPI_Comm_rank(g_comm, &g_rank);
  MPI_Comm_size(g_comm, &g_size);
  log::set_rank(g_rank, g_size);
}

Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) {
    if (g_comm != MPI_COMM_NULL) MPI_Comm_free(&g_comm);
    MPI_Finalize();
  }
}

MPI_Comm comm() { return g_comm == MPI_COMM_NULL ? MPI_COMM_WORLD : g_comm; }
int rank() { return g_rank; }
int size() { return g_size; }
bool initialized() { return g_comm != MPI_COMM_NULL; }

void abort_all(const std::string& message, int code) {
  log::error(message);
  if (initialized() && g_size > 1) MPI_Abort(comm(), code);
  std::exit(code);
}

uint64_t allreduce_sum(uint64_t v) { uint64_t r; MPI_Allreduce(&v, &r, 1, MPI_UINT64_T, MPI_SUM, comm()); return r; }
uint64_t allreduce_max(uint64_t v) { uint64_t r; MPI_Allreduce(&v, &r, 1, MPI_UINT64_T, MPI_MAX, comm()); return r; }
uint64_t allreduce_min(uint64_t v) { uint64_t r; MPI_Allreduce(&v, &r, 1, MPI_UINT64_T, MPI_MIN, comm()); return r; }
double allreduce_max(double v) { double r; MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, comm()); return r; }
double allreduce_sum(double v) { double r; MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, comm()); return r; }
void allreduce_sum(std::vector<uint64_t>& v) {
  for (size_t off = 0; off < v.size(); off += kMaxChunk / sizeof(uint64_t)) {
    const size_t n = std::min(kMaxChunk / sizeof(uint64_t), v.size() - off);
    MPI_Allreduce(MPI_IN_PLACE, v.data() + off, int(n), MPI_UINT64_T, MPI_SUM, comm());
  }
}
uint64_t exscan_sum(uint64_t v) {
  uint64_t r = 0;
  MPI_Exscan(&v, &r, 1, MPI_UINT64_T, MPI_SUM, comm());
  return g_rank == 0 ? 0 : r;
}
bool all_true(bool v) { int i = v ? 1 : 0, r; MPI_Allreduce(&i, &r, 1, MPI_INT, MPI_MIN, comm()); return r != 0; }

std::vector<uint64_t> allgather(uint64_t v) {
  std::vector<uint64_t> out(g_size);
  MPI_Allgather(&v, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, comm());
  return out;
}

std::vector<std::string> allgather_bytes(const std::string& mine) {
  auto sizes = allgather(mine.size());
  std::vector<std::string> out(g_size);
  for (int r = 0; r < g_size; ++r) out[r].resize(sizes[r]);
  // One broadcast per rank keeps every message under the int limit and the code obvious.
  for (int r = 0; r < g_size; ++r) {
    std::string& buf = out[r];
    if (r == g_rank) buf = mine;
    for (size_t off = 0; off < buf.size(); off += kMaxChunk) {
      size_t n = std::min(kMaxChunk, buf.size() - off);
      MPI_Bcast(buf.data() + off, static_cast<int>(n), MPI_BYTE, r, comm());
    }
  }
  return out;
}

std::vector<std::string> gather_bytes(const std::string& mine, int root) {
  uint64_t n = mine.size();
  std::vector<uint64_t> sizes(g_size);
  MPI_Gather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, root, comm());
  std::vector<std::string> out;
  if (g_rank == root) {
    out.resize(g_size);
    for (int r = 0; r < g_size; ++r) {
      if (r == root) { out[r] = mine; continue; }
      out[r].resize(sizes[r]);
      for (size_t off = 0; off < sizes[r]; off += kMaxChunk) {
        size_t len = std::min(kMaxChunk, sizes[r] - off);
        MPI_Recv(out[r].data() + off, static_cast<int>(len), MPI_BYTE, r, 7001, comm(), MPI_STATUS_IGNORE);
      }
    }
  } else {
    for (size_t off = 0; off < mine.size(); off += kMaxChunk) {
      size_t len = std::min(kMaxChunk, mine.size() - off);
      MPI_Send(mine.data() + off, static_cast<int>(len), MPI_BYTE, root, 7001, comm());
    }
  }
  return out;
}

void alltoall_into(const std::vector<std::string_view>& send, const std::function<char*(int, uint64_t)>& recv_at,
                   const std::function<void(const std::vector<uint64_t>&)>& sizes) {
  if (static_cast<int>(send.size()) != g_size) fail("internal: alltoall needs one buffer per rank");
  std::vector<uint64_t> scount(g_size), rcount(g_size);
  for (int r = 0; r < g_size; ++r) scount[r] = send[r].size();
  MPI_Alltoall(scount.data(), 1, MPI_UINT64_T, rcount.data(), 1, MPI_UINT64_T, comm());
  if (sizes) sizes(rcount);
  std::vector<MPI_Request> reqs;
  for (int r = 0; r < g_size; ++r) {
    char* at = recv_at(r, rcount[r]);
    for (size_t off = 0; off < rcount[r]; off += kMaxChunk) {
      size_t len = std::min(kMaxChunk, rcount[r] - off);
      reqs.emplace_back();
      MPI_Irecv(at + off, static_cast<int>(len), MPI_BYTE, r, 7002, comm(), &reqs.back());
    }
  }
  for (int r = 0; r < g_size; ++r) {
    for (size_t off = 0; off < scount[r]; off += kMaxChunk) {
      size_t len = std::min(kMaxChunk, scount[r] - off);
      reqs.emplace_back();
      MPI_Isend(send[r].data() + off, static_cast<int>(len), MPI_BYTE, r, 7002, comm(), &reqs.back());
    }
  }
  MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
}

std::vector<std::string> alltoall_bytes(const std::vector<std::string>& send) {
  std::vector<std::string_view> views(send.begin(), send.end());
  std::vector<std::string> recv(g_size);
  alltoall_into(views, [&](int r, uint64_t n) {
    recv[r].resize(n);
    return recv[r].data();
  });
  return recv;
}

std::string bcast_string(const std::string& s, int root) {
  uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm());
  std::string out = g_rank == root ? s : std::string(n, '\0');
  check_int(n, "broadcast");
  MPI_Bcast(out.data(), static_cast<int>(n), MPI_BYTE, root, comm());
  return out;
}

void barrier() { MPI_Barrier(comm()); }

}  // namespace esm::mpi
