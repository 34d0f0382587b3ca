#include "io/ordered_writer.hpp"

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/mpi_env.hpp"

namespace esm::io {

namespace {
constexpr size_t kBuffer = size_t(8) << 20;
constexpr size_t kMaxWrite = size_t(1) << 30;  // MPI counts are int

std::string mpi_error(int code) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return std::string(msg, size_t(len));
}
}  // namespace

OrderedWriter::OrderedWriter(const std::filesystem::path& final_path, uint64_t my_bytes)
    : final_(final_path.string()), partial_(partial_path(final_path).string()), my_bytes_(my_bytes) {
  offset_ = mpi::exscan_sum(my_bytes);
  total_ = mpi::allreduce_sum(my_bytes);
  int rc = MPI_File_open(mpi::comm(), partial_.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh_);
  if (rc != MPI_SUCCESS) fail(partial_, ": cannot create output file: ", mpi_error(rc));
  // A stale, longer .partial from a killed run must not leave bytes past the end.
  rc = MPI_File_set_size(fh_, static_cast<MPI_Offset>(total_));
  if (rc != MPI_SUCCESS) fail(partial_, ": cannot set the file size: ", mpi_error(rc));
  buf_.reserve(std::min<uint64_t>(kBuffer, my_bytes_));
}

OrderedWriter::~OrderedWriter() {
  if (fh_ != MPI_FILE_NULL) MPI_File_close(&fh_);
}

void OrderedWriter::write_direct(const char* data, size_t n) {
  for (size_t done = 0; done < n;) {
    size_t len = std::min(kMaxWrite, n - done);
    MPI_Status st;
    int rc = MPI_File_write_at(fh_, static_cast<MPI_Offset>(offset_ + written_), data + done, static_cast<int>(len),
                               MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) fail(partial_, ": write failed: ", mpi_error(rc));
    written_ += len;
    done += len;
  }
}

void OrderedWriter::flush() {
  write_direct(buf_.data(), buf_.size());
  buf_.clear();
}

void OrderedWriter::write(std::string_view bytes) {
  if (written_ + buf_.size() + bytes.size() > my_bytes_)
    fail("internal: ", final_, ": rank writes more than the ", my_bytes_, " bytes it announced");
  if (buf_.size() + bytes.size() > kBuffer) flush();
  // A part larger than the buffer goes out as it is: copying it would double its memory.
  if (bytes.size() > kBuffer) {
    write_direct(bytes.data(), bytes.size());
    return;
  }
  buf_.append(bytes);
}

void OrderedWriter::write_u64(uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  write(std::string_view(b, 8));
}

void OrderedWriter::close() {
  flush();
  bool exact = written_ == my_bytes_;
  if (!mpi::all_true(exact)) fail("internal: ", final_, ": a rank wrote fewer bytes than it announced");
  int rc = MPI_File_sync(fh_);
  if (rc != MPI_SUCCESS) fail(partial_, ": sync failed: ", mpi_error(rc));
  rc = MPI_File_close(&fh_);
  fh_ = MPI_FILE_NULL;
  if (rc != MPI_SUCCESS) fail(partial_, ": close failed: ", mpi_error(rc));
}

void write_ordered(const std::filesystem::path& final_path, std::string_view mine) {
  {
    OrderedWriter out(final_path, mine.size());
    out.write(mine);
    out.close();
  }
  // Every rank has closed the file before rank 0 renames it; no rank returns before the rename.
  mpi::barrier();
  if (mpi::is_root()) commit_partial(final_path);
  mpi::barrier();
}

}  // namespace esm::io
