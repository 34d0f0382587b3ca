// One output file written by all ranks at once: each rank owns the byte range that starts at
// the prefix sum of the lower ranks' byte counts, so the file comes out in rank order without
// any rank holding more than its own buffer. Written to "<final>.partial" with MPI-IO; the
// rename to the final name is the caller's commit step (see run_state.hpp), done once all
// outputs of the run are complete.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace esm::prep {

class ParallelFile {
 public:
  // Collective. my_bytes: exactly what this rank will write.
  ParallelFile(const std::string& final_path, uint64_t my_bytes);
  ~ParallelFile();
  ParallelFile(const ParallelFile&) = delete;
  ParallelFile& operator=(const ParallelFile&) = delete;

  void write(std::string_view bytes);  // appends to this rank's range (buffered)
  void write_u64(uint64_t v);          // little-endian
  // Collective: flushes, checks every rank wrote exactly its announced bytes, closes.
  void close();

  uint64_t offset() const { return offset_; }  // this rank's first byte in the file
  uint64_t total() const { return total_; }

 private:
  void flush();
  std::string final_, partial_;
  MPI_File fh_ = MPI_FILE_NULL;
  uint64_t my_bytes_, offset_ = 0, total_ = 0, written_ = 0;
  std::string buf_;
};

}  // namespace esm::prep
