// Work files between stages and spill runs of the sort: a zstd stream of length-prefixed
// records. Records are built with Packer and read with Unpacker, so a stage's on-disk layout
// is written in one place next to the code that reads it.
#pragma once
#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace esm::prep {

class Packer {
 public:
  Packer& u64(uint64_t v) {
    while (v >= 0x80) { buf_.push_back(static_cast<char>(v | 0x80)); v >>= 7; }
    buf_.push_back(static_cast<char>(v));
    return *this;
  }
  Packer& str(std::string_view s) { u64(s.size()); buf_.append(s); return *this; }
  Packer& f64(double d) { buf_.append(reinterpret_cast<const char*>(&d), sizeof d); return *this; }
  const std::string& bytes() const { return buf_; }
  std::string& bytes() { return buf_; }
  void clear() { buf_.clear(); }

 private:
  std::string buf_;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view s) : s_(s) {}
  uint64_t u64();
  std::string_view str();
  double f64();
  bool done() const { return pos_ >= s_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

class RecordWriter {
 public:
  explicit RecordWriter(std::string path, int level = 1);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  void put(std::string_view record);
  void put(const Packer& p) { put(p.bytes()); }
  void close();  // flushes the frame; throws on write errors
  uint64_t records() const { return records_; }
  uint64_t raw_bytes() const { return raw_bytes_; }

 private:
  void compress(std::string_view data, ZSTD_EndDirective mode);
  std::string path_;
  FILE* file_ = nullptr;
  ZSTD_CStream* cs_ = nullptr;
  std::string pending_, out_;
  uint64_t records_ = 0, raw_bytes_ = 0;
};

class RecordReader {
 public:
  explicit RecordReader(std::string path);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;
  // The view stays valid until the next call.
  bool next(std::string_view& record);

 private:
  bool need(size_t n);
  std::string path_;
  FILE* file_ = nullptr;
  ZSTD_DStream* ds_ = nullptr;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_len_ = 0, pending_ = 0;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

// Whole-file helpers for small arrays (indices, counts) that a stage keeps between runs.
void write_u64_file(const std::string& path, const std::vector<uint64_t>& values);
std::vector<uint64_t> read_u64_file(const std::string& path);

}  // namespace esm::prep
