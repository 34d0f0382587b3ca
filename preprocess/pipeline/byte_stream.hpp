// A sequential byte reader over a plain, gzip (one or more members) or zstd file, chosen by
// the file's magic bytes. Used for membership files, which are streamed once and can be far
// larger than memory. A stream that ends early is an error, not a short read.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace esm::prep {

class ByteStream {
 public:
  explicit ByteStream(const std::string& path);
  ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  // Fills up to n bytes; returns 0 only at the true end of the data. Throws esm::Error
  // naming the file for a truncated or corrupt compressed stream.
  size_t read(char* out, size_t n);
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

// Line-at-a-time view over a ByteStream (lines without '\n'; '\r' before it stripped).
class LineReader {
 public:
  explicit LineReader(const std::string& path) : in_(path) {}
  bool next(std::string& line);
  uint64_t line_number() const { return line_no_; }
  const std::string& path() const { return in_.path(); }

 private:
  ByteStream in_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
};

}  // namespace esm::prep
