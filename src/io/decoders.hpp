// Streaming gzip and zstd decoders over a file descriptor, shared by the readers and by the
// index builder (which listens for restart opportunities through the callbacks).
#pragma once
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace esm::io {

// An open file read sequentially from a byte offset, in large blocks.
class InputFile {
 public:
  InputFile(const std::string& path, uint64_t offset);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  size_t read(char* dst, size_t n);  // 0 at end of file
  uint64_t position() const { return pos_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t pos_ = 0;
};

// gzip members one after another (multi-member and BGZF included), or a resumption inside a
// deflate stream from a restart point.
class GzipDecoder {
 public:
  // From the start of a member at `coffset`.
  GzipDecoder(const std::string& path, uint64_t coffset);
  // Inside a deflate stream: `bits` unused bits of byte coffset-1, and the 32 KiB window.
  GzipDecoder(const std::string& path, uint64_t coffset, int bits, const std::string& window);
  ~GzipDecoder();
  size_t read(char* dst, size_t n);
  // Called after a deflate block ends (not the last of its member) with the compressed offset
  // of the next unread byte, its unused bit count and how many bytes this read() produced so far.
  std::function<void(uint64_t coffset, int bits, size_t produced)> on_block;

 private:
  bool refill();
  uint64_t compressed_pos() const { return file_.position() - strm_.avail_in; }
  [[noreturn]] void corrupt(const std::string& what) const;
  InputFile file_;
  z_stream strm_{};
  std::vector<unsigned char> in_;
  bool raw_ = false;          // resumed mid-member: no header, trailer skipped by hand
  bool member_open_ = false;  // inside a member: end of file here means truncation
  bool eof_ = false, done_ = false;
  uint64_t skip_trailer_ = 0;
};

// zstd frames one after another (skippable frames included).
class ZstdDecoder {
 public:
  ZstdDecoder(const std::string& path, uint64_t coffset);
  ~ZstdDecoder();
  size_t read(char* dst, size_t n);
  // Called when a frame has been decoded and flushed completely: the compressed offset of the
  // next frame and how many bytes this read() produced so far.
  std::function<void(uint64_t coffset, size_t produced)> on_frame;

 private:
  InputFile file_;
  ZSTD_DCtx* ctx_ = nullptr;
  std::vector<char> in_;
  ZSTD_inBuffer inb_{nullptr, 0, 0};
  size_t last_ret_ = 0;  // 0: at a frame boundary
  bool done_ = false;
};

}  // namespace esm::io
