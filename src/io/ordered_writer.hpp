// One output file written by all ranks at once, in rank order: each rank owns the byte range
// that starts at the sum of the lower ranks' byte counts (an exscan), so the file is the
// concatenation of every rank's bytes without any rank holding more than its own part.
// Bytes go to "<final>.partial" through MPI-IO; the rename to the final name is a separate
// commit step, because a stage with several outputs renames them only once all are complete.
// Used by every stage that writes one shared file (preprocess outputs, sample, cluster).
#pragma once
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace esm::io {

class OrderedWriter {
 public:
  // Collective over esm::mpi::comm(). my_bytes: exactly what this rank will write.
  OrderedWriter(const std::filesystem::path& final_path, uint64_t my_bytes);
  ~OrderedWriter();
  OrderedWriter(const OrderedWriter&) = delete;
  OrderedWriter& operator=(const OrderedWriter&) = delete;

  void write(std::string_view bytes);  // appends to this rank's range (buffered)
  void write_u64(uint64_t v);          // little-endian
  // Collective: flushes, checks every rank wrote exactly its announced bytes, closes. The file
  // stays "<final>.partial" (commit_partial() in core/atomic_file.hpp renames it).
  void close();

  uint64_t offset() const { return offset_; }  // this rank's first byte in the file
  uint64_t total() const { return total_; }     // the whole file's size

 private:
  void flush();
  void write_direct(const char* data, size_t n);
  std::string final_, partial_;
  MPI_File fh_ = MPI_FILE_NULL;
  uint64_t my_bytes_, offset_ = 0, total_ = 0, written_ = 0;
  std::string buf_;
};

// Collective: writes `mine` of every rank, in rank order, as one file and renames it to its
// final name (rank 0) once every rank is done. For outputs a rank holds whole in memory.
void write_ordered(const std::filesystem::path& final_path, std::string_view mine);

}  // namespace esm::io
