#include "pipeline/parallel_file.hpp"

#include <cstring>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/mpi_env.hpp"

namespace esm::prep {

namespace {
constexpr size_t kBuffer = size_t(8) << 20;
constexpr size_t kMaxWrite = size_t(1) << 30;  // MPI counts are int

std::string mpi_error(int code) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return std::string(msg, len);
}
}  // namespace

ParallelFile::ParallelFile(const std::string& final_path, uint64_t my_bytes)
    : final_(final_path), partial_(partial_path(final_path).string()), my_bytes_(my_bytes) {
  offset_ = mpi::exscan_sum(my_bytes);
  total_ = mpi::allreduce_sum(my_bytes);
  int rc = MPI_File_open(mpi::comm(), partial_.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh_);
  if (rc != MPI_SUCCESS) fail(partial_, ": cannot create output file: ", mpi_error(rc));
  // A stale, longer .partial from a killed run must not leave bytes past the end.
  rc = MPI_File_set_size(fh_, static_cast<MPI_Offset>(total_));
  if (rc != MPI_SUCCESS) fail(partial_, ": cannot set the file size: ", mpi_error(rc));
  buf_.reserve(std::min<uint64_t>(kBuffer, my_bytes_));
}

ParallelFile::~ParallelFile() {
  if (fh_ != MPI_FILE_NULL) MPI_File_close(&fh_);
}

void ParallelFile::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    size_t n = std::min(kMaxWrite, buf_.size() - done);
    MPI_Status st;
    int rc = MPI_File_write_at(fh_, static_cast<MPI_Offset>(offset_ + written_), buf_.data() + done,
                               static_cast<int>(n), MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) fail(partial_, ": write failed: ", mpi_error(rc));
    written_ += n;
    done += n;
  }
  buf_.clear();
}

void ParallelFile::write(std::string_view bytes) {
  if (written_ + buf_.size() + bytes.size() > my_bytes_)
    fail("internal: ", final_, ": rank writes more than the ", my_bytes_, " bytes it announced");
  if (buf_.size() + bytes.size() > kBuffer) flush();
  if (bytes.size() > kBuffer) {
    buf_.assign(bytes);
    flush();
    return;
  }
  buf_.append(bytes);
}

void ParallelFile::write_u64(uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  write(std::string_view(b, 8));
}

void ParallelFile::close() {
  flush();
  bool exact = written_ == my_bytes_;
  if (!mpi::all_true(exact)) fail("internal: ", final_, ": a rank wrote fewer bytes than it announced");
  int rc = MPI_File_sync(fh_);
  if (rc != MPI_SUCCESS) fail(partial_, ": sync failed: ", mpi_error(rc));
  rc = MPI_File_close(&fh_);
  fh_ = MPI_FILE_NULL;
  if (rc != MPI_SUCCESS) fail(partial_, ": close failed: ", mpi_error(rc));
}

}  // namespace esm::prep
