// The MPI session and the few collectives every stage uses. One place so stages never call
// MPI_Init themselves and every fatal error aborts all ranks with a message.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace esm::mpi {

// RAII: MPI_Init_thread (MPI_THREAD_MULTIPLE requested: writer threads do MPI-IO) ... MPI_Finalize.
class Session {
 public:
  Session(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  int thread_level() const { return thread_level_; }

 private:
  int thread_level_ = 0;
};

MPI_Comm comm();  // a duplicate of MPI_COMM_WORLD owned by esmpipe
int rank();
int size();
bool initialized();
inline bool is_root() { return rank() == 0; }

// Prints the message on this rank and aborts every rank with the exit code.
[[noreturn]] void abort_all(const std::string& message, int code);

uint64_t allreduce_sum(uint64_t v);
uint64_t allreduce_max(uint64_t v);
uint64_t allreduce_min(uint64_t v);
double allreduce_max(double v);
double allreduce_sum(double v);
void allreduce_sum(std::vector<uint64_t>& v);  // element-wise, in place (same length on every rank)
uint64_t exscan_sum(uint64_t v);  // sum over lower ranks (0 on rank 0)
bool all_true(bool v);

std::vector<uint64_t> allgather(uint64_t v);
// Variable-size byte buffers: every rank gets every rank's buffer, in rank order.
std::vector<std::string> allgather_bytes(const std::string& mine);
// Only the root gets the list (others get an empty vector).
std::vector<std::string> gather_bytes(const std::string& mine, int root = 0);
// send[i] goes to rank i; returns what each rank sent to this one, in rank order.
std::vector<std::string> alltoall_bytes(const std::vector<std::string>& send);
// The same without staging copies: send[i] goes to rank i straight from the caller's memory,
// and what rank r sends lands at recv_at(r, bytes), which the caller allocates (called once per
// rank, in rank order, before any data moves). For large exchanges (k-mer tuples, pairs).
// sizes (optional) gets every rank's byte count first, so the caller can allocate one buffer
// for all of them.
void alltoall_into(const std::vector<std::string_view>& send, const std::function<char*(int rank, uint64_t bytes)>& recv_at,
                   const std::function<void(const std::vector<uint64_t>& bytes_from)>& sizes = {});
std::string bcast_string(const std::string& s, int root = 0);
void barrier();

}  // namespace esm::mpi
