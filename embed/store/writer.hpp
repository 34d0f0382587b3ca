// Parallel writes into a store whose structure already exists (store_file.hpp). Every rank
// opens it with MPI-IO and runs one writer thread fed by a bounded queue, so the encoder keeps
// computing while finished batches go to disk.
//
// Uncompressed stores have contiguous, pre-allocated datasets: each batch is written with
// independent I/O, rows first and /sequences/done last, and no HDF5 metadata changes, so a
// process killed at any point leaves a readable store whose done flags are all true.
//
// zstd stores have chunked, filtered datasets, which HDF5 1.10 writes only collectively. The
// writer threads then work in rounds: every 50 ms an allreduce tells all ranks how much is
// waiting and whether everyone has finished; when a round is due (64 MiB waiting on some rank,
// 10 s since the last round, or the end), every rank writes all batches it holds (possibly
// none: an empty selection), a collective flush puts chunks and chunk index on disk, and only
// then /sequences/done is written. Ranks never wait for each other's compute, only for the
// round's collective calls. Chunk shapes come from the layout, never from the rank count.
//
// Durability (--sync-seconds S): the page cache may write a done flag to disk before the rows
// it vouches for, so after a power or node loss (not a process kill: the kernel still has the
// pages) a flag could say done over missing rows. With S >= 0 each rank fsyncs its rows before
// their done flags are written: uncompressed stores hold the flags of finished batches in
// memory until the next fsync (every S seconds; S = 0: after every batch), zstd stores fsync
// at each round's two flushes. A loss then costs at most S seconds of work per rank.
#pragma once
#include <mpi.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/layout.hpp"

namespace esm::store {

// What a batch contributes for one sequence; layers/means follow StoreOptions::layers.
struct SequenceRows {
  uint64_t index = 0;
  std::vector<std::vector<float>> layers;  // [slot][n * D]
  std::vector<std::vector<float>> means;   // [slot][D]
  std::vector<float> logits;               // [n * 33]
  std::vector<float> contacts;             // [n * n]
};
using Batch = std::vector<SequenceRows>;

struct WriterStats {
  uint64_t sequences = 0, bytes = 0, rounds = 0, syncs = 0;
  double write_seconds = 0;  // time the writer thread spent in HDF5 calls
};

class StoreWriter {
 public:
  // Collective over comm. queue_batches: batches that may wait for the writer before push blocks.
  // sync_seconds < 0: no fsync (the default; safe against killed processes, not lost nodes).
  StoreWriter(const std::string& path, const Layout& layout, const StoreOptions& opt, MPI_Comm comm,
              double sync_seconds = -1, size_t queue_batches = 4);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Hands a finished batch to the writer thread; blocks while the queue is full. Returns the
  // seconds spent blocked. Rethrows a writer-thread failure.
  double push(Batch batch);
  // No more batches from this rank: drains the queue, joins the thread, closes the file
  // (collective). Rethrows a writer-thread failure.
  void finish();
  const WriterStats& stats() const { return stats_; }

 private:
  struct Impl;
  void run();
  void write_independent(const Batch& b);
  void write_round(std::vector<Batch>& batches);
  void write_done_flags(const std::vector<uint64_t>& indices);
  void sync_to_disk();
  void rethrow_if_failed();

  std::unique_ptr<Impl> impl_;
  const Layout& layout_;
  StoreOptions opt_;
  bool collective_;
  std::string path_;
  double sync_seconds_;
  int sync_fd_ = -1;
  std::vector<uint64_t> unsynced_;  // sequences whose rows wait for an fsync before their flags
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool closed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
  WriterStats stats_;
  MPI_Comm round_comm_ = MPI_COMM_NULL;
};

}  // namespace esm::store
