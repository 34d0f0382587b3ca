#include "store/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "hdf5/hdf5w.hpp"
#include "store/half.hpp"

namespace esm::store {

struct StoreWriter::Impl {
  h5::Id file, dxpl, half, done;
  std::vector<h5::Id> datasets;  // parallel to layout.datasets
};

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const std::vector<float>& source(const SequenceRows& s, const DatasetSpec& d) {
  if (d.layer_slot >= 0) return d.is_mean ? s.means.at(d.layer_slot) : s.layers.at(d.layer_slot);
  return d.kind == RowKind::Contact ? s.contacts : s.logits;
}

// Appends one sequence's values to a byte buffer in the dataset's file type.
void append(std::vector<uint8_t>& out, const std::vector<float>& v, bool half, uint64_t expect, const std::string& path,
            uint64_t index) {
  if (v.size() != expect)
    fail("internal: sequence ", index, " has ", v.size(), " values for ", path, ", expected ", expect);
  size_t at = out.size();
  if (half) {
    out.resize(at + v.size() * 2);
    auto* p = reinterpret_cast<uint16_t*>(out.data() + at);
    for (size_t i = 0; i < v.size(); ++i) p[i] = float_to_half(v[i]);
  } else {
    out.resize(at + v.size() * 4);
    std::copy_n(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4, out.data() + at);
  }
}

// Runs of consecutive rows [start, start+count) merged from per-sequence ranges sorted by start.
struct Run { uint64_t start, count; };
void add_run(std::vector<Run>& runs, uint64_t start, uint64_t count) {
  if (count == 0) return;
  if (!runs.empty() && runs.back().start + runs.back().count == start) runs.back().count += count;
  else runs.push_back({start, count});
}

h5::Id select_runs(hid_t dataset, const std::vector<Run>& runs) {
  h5::Id space(H5Dget_space(dataset), "dataset space");
  int rank = H5Sget_simple_extent_ndims(space);
  hsize_t d[2] = {0, 0};
  H5Sget_simple_extent_dims(space, d, nullptr);
  H5Sselect_none(space);
  for (const auto& r : runs) {
    hsize_t s[2] = {r.start, 0}, c[2] = {r.count, rank == 2 ? d[1] : 1};
    h5::check_status(H5Sselect_hyperslab(space, H5S_SELECT_OR, s, nullptr, c, nullptr), "selecting rows");
  }
  return space;
}

// MPI implementations busy-poll inside blocking collectives. A rank waiting for its peers must
// not take a core from their compute (ranks may share cores), so waits poll and sleep.
void polite_wait(MPI_Request& req) {
  int done = 0;
  for (;;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

// Test hook for the zstd kill test: ESMPIPE_TEST_KILL_ROUND="R:STEP" makes rank 0 SIGKILL
// itself in write round R (0-based) at STEP: "data" (rows written, nothing flushed), "flushed"
// (chunks flushed, no done flag) or "flags" (done flags written, not flushed). mpirun then
// kills the other ranks wherever they are, typically inside the round's collective calls.
void test_kill_point(uint64_t round, const char* step) {
  static const char* spec = std::getenv("ESMPIPE_TEST_KILL_ROUND");
  if (!spec || !*spec) return;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  const char* colon = std::strchr(spec, ':');
  if (!colon || std::strtoull(spec, nullptr, 10) != round || std::strcmp(colon + 1, step) != 0) return;
  std::raise(SIGKILL);
}

}  // namespace

StoreWriter::StoreWriter(const std::string& path, const Layout& layout, const StoreOptions& opt, MPI_Comm comm,
                         double sync_seconds, size_t queue_batches)
    : impl_(std::make_unique<Impl>()), layout_(layout), opt_(opt), collective_(opt.zstd_level > 0), path_(path),
      sync_seconds_(sync_seconds), capacity_(std::max<size_t>(1, queue_batches)) {
  h5::init();
  if (sync_seconds_ >= 0) {
    // fsync on any descriptor of the file flushes all of its dirty pages on this node.
    sync_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd_ < 0) fail("cannot open ", path, " for fsync: ", std::strerror(errno));
  }
  MPI_Comm_dup(comm, &round_comm_);
  MPI_Info info;
  MPI_Info_create(&info);
  // Independent writes are whole row ranges: no read-modify-write sieving in ROMIO.
  MPI_Info_set(info, "romio_ds_write", "disable");
  h5::Id fapl(H5Pcreate(H5P_FILE_ACCESS), "file access properties");
  h5::check_status(H5Pset_fapl_mpio(fapl, comm, info), "MPI-IO file driver");
  MPI_Info_free(&info);
  if (collective_) {
    H5Pset_all_coll_metadata_ops(fapl, true);
    H5Pset_coll_metadata_write(fapl, true);
  }
  impl_->file = h5::Id(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl), "opening " + path + " for parallel writing");
  impl_->dxpl = h5::Id(H5Pcreate(H5P_DATASET_XFER), "transfer properties");
  h5::check_status(H5Pset_dxpl_mpio(impl_->dxpl, collective_ ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT),
                   "transfer mode");
  impl_->half = h5::half_type();
  impl_->done = h5::Id(H5Dopen2(impl_->file, "/sequences/done", H5P_DEFAULT), "opening /sequences/done");
  for (const auto& d : layout_.datasets)
    impl_->datasets.emplace_back(H5Dopen2(impl_->file, d.path.c_str(), H5P_DEFAULT), "opening " + d.path);
  thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() {
  const bool finished = !thread_.joinable();
  if (!finished) {
    { std::lock_guard<std::mutex> g(mu_); closed_ = true; }
    cv_.notify_all();
    thread_.join();
  }
  // Closing a file opened with MPI-IO is collective; a writer abandoned by an error must not
  // wait for ranks that may never get here. The handles go with the process.
  if (!finished || error_) {
    (void)impl_.release();
    return;
  }
  if (round_comm_ != MPI_COMM_NULL) MPI_Comm_free(&round_comm_);
  if (sync_fd_ >= 0) ::close(sync_fd_);
}

void StoreWriter::rethrow_if_failed() {
  std::lock_guard<std::mutex> g(mu_);
  if (error_) std::rethrow_exception(error_);
}

double StoreWriter::push(Batch batch) {
  auto t0 = Clock::now();
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return queue_.size() < capacity_ || error_; });
  if (error_) std::rethrow_exception(error_);
  queue_.push_back(std::move(batch));
  lk.unlock();
  cv_.notify_all();
  return seconds_since(t0);
}

void StoreWriter::finish() {
  { std::lock_guard<std::mutex> g(mu_); closed_ = true; }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  rethrow_if_failed();
  // Closing is collective: wait for the slowest rank here without spinning.
  MPI_Request req;
  MPI_Ibarrier(round_comm_, &req);
  polite_wait(req);
  impl_->datasets.clear();
  impl_->done.close("closing /sequences/done");
  impl_->file.close("closing the store after parallel writes");
}

void StoreWriter::run() {
  try {
    if (!collective_) {
      auto last_sync = Clock::now();
      for (;;) {
        Batch b;
        {
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return !queue_.empty() || closed_; });
          if (queue_.empty()) {
            lk.unlock();
            if (!unsynced_.empty()) sync_to_disk();  // the last flags, durable before we close
            return;
          }
          b = std::move(queue_.front());
          queue_.pop_front();
        }
        cv_.notify_all();
        write_independent(b);
        if (sync_seconds_ >= 0 && seconds_since(last_sync) >= sync_seconds_) {
          sync_to_disk();
          last_sync = Clock::now();
        }
      }
    }
    // Rounds are few and large: every round rewrites (decompresses and recompresses) each chunk
    // it touches, and length-sorted batches touch chunks all over the dataset. A round starts
    // when some rank holds kRoundBytes, when kRoundSeconds passed since the last one, or when
    // every rank has finished; the allreduce makes that decision the same on every rank.
    // ESMPIPE_ZSTD_ROUND_MB / ESMPIPE_ZSTD_ROUND_SECONDS tune this (tests use short rounds);
    // the same values must be given to every rank, as mpirun/srun do with the environment.
    auto env = [](const char* name, double fallback) {
      const char* v = std::getenv(name);
      return v && *v ? std::atof(v) : fallback;
    };
    const double kRoundBytes = env("ESMPIPE_ZSTD_ROUND_MB", 64.0) * (1 << 20);
    const double kRoundSeconds = env("ESMPIPE_ZSTD_ROUND_SECONDS", 10.0);
    std::vector<Batch> pending;
    double pending_bytes = 0;
    auto last_round = Clock::now();
    for (;;) {
      bool producer_done;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait_for(lk, std::chrono::milliseconds(50), [&] { return !queue_.empty() || closed_; });
        while (!queue_.empty()) {
          for (const auto& s : queue_.front())
            for (const auto& d : layout_.datasets) pending_bytes += double(layout_.row_count(d, s.index)) * std::max<uint64_t>(1, d.cols) * d.element_bytes();
          pending.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        producer_done = closed_;
      }
      cv_.notify_all();
      // MAX over ranks of: [0] still working, [1] bytes waiting, [2] seconds since the last round.
      double local[3] = {producer_done ? 0.0 : 1.0, pending_bytes, seconds_since(last_round)}, all[3];
      MPI_Request req;
      MPI_Iallreduce(local, all, 3, MPI_DOUBLE, MPI_MAX, round_comm_, &req);
      polite_wait(req);
      const bool everyone_finished = all[0] == 0;
      if (all[1] > 0 && (everyone_finished || all[1] >= kRoundBytes || all[2] >= kRoundSeconds)) {
        write_round(pending);
        pending.clear();
        pending_bytes = 0;
        last_round = Clock::now();
      }
      if (everyone_finished) return;
    }
  } catch (...) {
    std::lock_guard<std::mutex> g(mu_);
    error_ = std::current_exception();
    closed_ = true;
    cv_.notify_all();
  }
}

void StoreWriter::write_independent(const Batch& b) {
  auto t0 = Clock::now();
  std::vector<uint8_t> buf;
  for (const auto& s : b) {
    for (size_t k = 0; k < layout_.datasets.size(); ++k) {
      const auto& d = layout_.datasets[k];
      uint64_t rows = layout_.row_count(d, s.index);
      if (rows == 0) continue;
      const auto& v = source(s, d);
      const void* data = v.data();
      if (d.half) {  // float32 rows go straight from the encoder's vector
        buf.clear();
        append(buf, v, true, rows * std::max<uint64_t>(1, d.cols), d.path, s.index);
        data = buf.data();
      } else if (v.size() != rows * std::max<uint64_t>(1, d.cols)) {
        fail("internal: sequence ", s.index, " has ", v.size(), " values for ", d.path);
      }
      h5::Id fs = h5::file_slab(impl_->datasets[k], layout_.first_row(d, s.index), rows);
      h5::Id ms = h5::mem_space(rows, d.cols);
      hid_t type = d.half ? hid_t(impl_->half) : H5T_NATIVE_FLOAT;
      h5::check_status(H5Dwrite(impl_->datasets[k], type, ms, fs, impl_->dxpl, data), "writing " + d.path);
      stats_.bytes += rows * std::max<uint64_t>(1, d.cols) * d.element_bytes();
    }
  }
  // Done flags only after every row of the batch is in the file (and on disk, with --sync-seconds).
  std::vector<uint64_t> indices;
  for (const auto& s : b) indices.push_back(s.index);
  if (sync_seconds_ >= 0) unsynced_.insert(unsynced_.end(), indices.begin(), indices.end());
  else write_done_flags(indices);
  stats_.write_seconds += seconds_since(t0);
}

void StoreWriter::write_done_flags(const std::vector<uint64_t>& indices) {
  const uint8_t one = 1;
  for (uint64_t i : indices) {
    h5::Id fs = h5::file_slab(impl_->done, i, 1);
    h5::Id ms = h5::mem_space(1, 0);
    h5::check_status(H5Dwrite(impl_->done, H5T_NATIVE_UINT8, ms, fs, impl_->dxpl, &one), "writing /sequences/done");
  }
  stats_.sequences += indices.size();
}

// Rows on disk, then their flags, then the flags on disk (uncompressed stores: independent I/O).
void StoreWriter::sync_to_disk() {
  auto t0 = Clock::now();
  auto fsync_or_fail = [&] {
    if (::fsync(sync_fd_) != 0) fail("fsync of ", path_, " failed: ", std::strerror(errno));
    stats_.syncs += 1;
  };
  fsync_or_fail();
  write_done_flags(unsynced_);
  unsynced_.clear();
  fsync_or_fail();
  stats_.write_seconds += seconds_since(t0);
}

void StoreWriter::write_round(std::vector<Batch>& batches) {
  auto t0 = Clock::now();
  // HDF5 maps a multi-block selection to memory in increasing file order: sort by sequence.
  std::vector<const SequenceRows*> seqs;
  for (const auto& b : batches)
    for (const auto& s : b) seqs.push_back(&s);
  std::sort(seqs.begin(), seqs.end(), [](auto* a, auto* b) { return a->index < b->index; });
  std::vector<uint8_t> buf;
  for (size_t k = 0; k < layout_.datasets.size(); ++k) {
    const auto& d = layout_.datasets[k];
    buf.clear();
    std::vector<Run> runs;
    uint64_t total = 0;
    for (const auto* s : seqs) {
      uint64_t rows = layout_.row_count(d, s->index);
      if (rows == 0) continue;
      append(buf, source(*s, d), d.half, rows * std::max<uint64_t>(1, d.cols), d.path, s->index);
      add_run(runs, layout_.first_row(d, s->index), rows);
      total += rows;
    }
    // Every rank calls H5Dwrite for every dataset, an empty selection included.
    h5::Id fs = select_runs(impl_->datasets[k], runs);
    h5::Id ms = h5::mem_space(std::max<uint64_t>(total, 1), d.cols);
    if (total == 0) H5Sselect_none(ms);
    hid_t type = d.half ? hid_t(impl_->half) : H5T_NATIVE_FLOAT;
    uint8_t dummy[8] = {};
    h5::check_status(H5Dwrite(impl_->datasets[k], type, ms, fs, impl_->dxpl, buf.empty() ? dummy : buf.data()),
                     "writing " + d.path);
    stats_.bytes += buf.size();
  }
  test_kill_point(stats_.rounds, "data");
  // The chunks and their index must be in the file (with --sync-seconds: on disk) before any
  // done flag says so.
  h5::check_status(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flushing the store");
  if (sync_fd_ >= 0 && ::fsync(sync_fd_) != 0) fail("fsync of ", path_, " failed: ", std::strerror(errno));
  test_kill_point(stats_.rounds, "flushed");
  std::vector<Run> runs;
  for (const auto* s : seqs) add_run(runs, s->index, 1);
  std::vector<uint8_t> ones(std::max<size_t>(seqs.size(), 1), 1);
  h5::Id fs = select_runs(impl_->done, runs);
  h5::Id ms = h5::mem_space(ones.size(), 0);
  if (seqs.empty()) H5Sselect_none(ms);
  h5::check_status(H5Dwrite(impl_->done, H5T_NATIVE_UINT8, ms, fs, impl_->dxpl, ones.data()), "writing /sequences/done");
  test_kill_point(stats_.rounds, "flags");
  // The flags reach the file before the next round rewrites any chunk: a kill inside that
  // round's flush finds this round's sequences marked done, with their chunks in place.
  h5::check_status(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flushing the store");
  if (sync_fd_ >= 0 && ::fsync(sync_fd_) != 0) fail("fsync of ", path_, " failed: ", std::strerror(errno));
  stats_.syncs += sync_fd_ >= 0 ? 2 : 0;
  stats_.sequences += seqs.size();
  stats_.rounds += 1;
  stats_.write_seconds += seconds_since(t0);
}

}  // namespace esm::store
