#include "store/work_counter.hpp"

namespace esm::store {

WorkCounter::WorkCounter(MPI_Comm comm) {
  MPI_Comm_dup(comm, &comm_);
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  MPI_Aint bytes = rank == 0 ? sizeof(int64_t) : 0;
  MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, comm_, &base_, &win_);
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
    *base_ = 0;
    MPI_Win_unlock(0, win_);
  }
  MPI_Barrier(comm_);
}

WorkCounter::~WorkCounter() {
  MPI_Win_free(&win_);
  MPI_Comm_free(&comm_);
}

int64_t WorkCounter::add(int64_t v) {
  int64_t old = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  MPI_Fetch_and_op(&v, &old, MPI_INT64_T, 0, 0, MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return old;
}

int64_t WorkCounter::next() { return add(1); }
void WorkCounter::stop_all() { add(kStopIncrement); }

}  // namespace esm::store
