// Dynamic work distribution: a shared batch counter in an MPI window on rank 0. Each rank takes
// the next batch with one MPI_Fetch_and_op, so a fast rank simply takes more batches and a long
// tail is shared; no rank is told in advance what it will do.
#pragma once
#include <mpi.h>

#include <cstdint>

namespace esm::store {

class WorkCounter {
 public:
  explicit WorkCounter(MPI_Comm comm);  // collective
  ~WorkCounter();                        // collective (MPI_Win_free)
  WorkCounter(const WorkCounter&) = delete;
  WorkCounter& operator=(const WorkCounter&) = delete;

  int64_t next();  // the next batch number (may be past the last one: no work left)
  // Pushes the counter past any batch count so every rank stops at its next call (a signal
  // seen by one rank stops the job everywhere, at batch boundaries).
  void stop_all();

 private:
  int64_t add(int64_t v);
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
};

inline constexpr int64_t kStopIncrement = int64_t(1) << 50;

}  // namespace esm::store
