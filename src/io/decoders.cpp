#include "io/decoders.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace esm::io {

namespace {
constexpr size_t kInputBlock = 256 << 10;
}

InputFile::InputFile(const std::string& path, uint64_t offset) : path_(path), pos_(offset) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, ": cannot open: ", std::strerror(errno));
  if (offset && ::lseek(fd_, off_t(offset), SEEK_SET) < 0) fail(path, ": cannot seek to byte ", offset, ": ", std::strerror(errno));
  ::posix_fadvise(fd_, off_t(offset), 0, POSIX_FADV_SEQUENTIAL);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t InputFile::read(char* dst, size_t n) {
  for (;;) {
    ssize_t got = ::read(fd_, dst, n);
    if (got >= 0) {
      pos_ += uint64_t(got);
      return size_t(got);
    }
    if (errno != EINTR) fail(path_, ": read error at byte ", pos_, ": ", std::strerror(errno));
  }
}

// ---------------------------------------------------------------- gzip

GzipDecoder::GzipDecoder(const std::string& path, uint64_t coffset) : file_(path, coffset), in_(kInputBlock) {
  // 15 + 32: a 32 KiB window and automatic gzip/zlib header detection.
  if (inflateInit2(&strm_, 15 + 32) != Z_OK) fail(path, ": inflateInit2 failed");
}

GzipDecoder::GzipDecoder(const std::string& path, uint64_t coffset, int bits, const std::string& window)
    : file_(path, bits ? coffset - 1 : coffset), in_(kInputBlock) {
  if (inflateInit2(&strm_, -15) != Z_OK) fail(path, ": inflateInit2 failed");
  raw_ = true;
  member_open_ = true;
  if (bits) {
    unsigned char b = 0;
    if (file_.read(reinterpret_cast<char*>(&b), 1) != 1) corrupt("index points past the end of the file");
    inflatePrime(&strm_, bits, b >> (8 - bits));
  }
  if (!window.empty() && inflateSetDictionary(&strm_, reinterpret_cast<const Bytef*>(window.data()), uInt(window.size())) != Z_OK)
    corrupt("cannot restore the inflate window from the index");
}

GzipDecoder::~GzipDecoder() { inflateEnd(&strm_); }

void GzipDecoder::corrupt(const std::string& what) const {
  fail(file_.path(), ": corrupt gzip data at compressed byte ", compressed_pos(), ": ", what);
}

bool GzipDecoder::refill() {
  if (eof_) return false;
  size_t got = file_.read(reinterpret_cast<char*>(in_.data()), in_.size());
  if (got == 0) {
    eof_ = true;
    return false;
  }
  strm_.next_in = in_.data();
  strm_.avail_in = uInt(got);
  return true;
}

size_t GzipDecoder::read(char* dst, size_t n) {
  size_t produced = 0;
  while (produced < n && !done_) {
    // A resumed member ends at its deflate end: its 8-byte trailer (CRC, size) is ours to skip.
    while (skip_trailer_ > 0) {
      if (strm_.avail_in == 0 && !refill()) corrupt("truncated gzip stream (the file ends inside a member trailer)");
      uInt k = uInt(std::min<uint64_t>(skip_trailer_, strm_.avail_in));
      strm_.next_in += k;
      strm_.avail_in -= k;
      skip_trailer_ -= k;
    }
    if (strm_.avail_in == 0 && !refill()) {
      if (member_open_) corrupt("truncated gzip stream (the file ends inside a compressed member)");
      done_ = true;
      break;
    }
    member_open_ = true;
    strm_.next_out = reinterpret_cast<Bytef*>(dst + produced);
    strm_.avail_out = uInt(n - produced);
    int ret = inflate(&strm_, on_block ? Z_BLOCK : Z_NO_FLUSH);
    produced = n - strm_.avail_out;
    if (ret == Z_STREAM_END) {
      member_open_ = false;
      if (raw_) {
        skip_trailer_ = 8;
        raw_ = false;
        if (inflateReset2(&strm_, 15 + 32) != Z_OK) corrupt("inflateReset2 failed");
      } else if (inflateReset(&strm_) != Z_OK) {
        corrupt("inflateReset failed");
      }
      continue;
    }
    if (ret == Z_BUF_ERROR) {  // no progress possible: needs more input, which the loop fetches
      if (strm_.avail_in != 0 && strm_.avail_out != 0) corrupt("inflate made no progress");
      continue;
    }
    if (ret != Z_OK) {
      std::string msg = strm_.msg ? strm_.msg : "inflate error";
      if (ret == Z_DATA_ERROR && msg == "incorrect header check") msg += " (data after a gzip member is not gzip)";
      corrupt(msg);
    }
    if (on_block && (strm_.data_type & 128) && !(strm_.data_type & 64))
      on_block(compressed_pos(), strm_.data_type & 7, produced);
  }
  return produced;
}

// ---------------------------------------------------------------- zstd

ZstdDecoder::ZstdDecoder(const std::string& path, uint64_t coffset)
    : file_(path, coffset), in_(ZSTD_DStreamInSize() > kInputBlock ? ZSTD_DStreamInSize() : kInputBlock) {
  ctx_ = ZSTD_createDCtx();
  if (!ctx_) fail(path, ": ZSTD_createDCtx failed");
  inb_ = {in_.data(), 0, 0};
}

ZstdDecoder::~ZstdDecoder() { ZSTD_freeDCtx(ctx_); }

size_t ZstdDecoder::read(char* dst, size_t n) {
  size_t produced = 0;
  while (produced < n && !done_) {
    if (inb_.pos == inb_.size) {
      size_t got = file_.read(in_.data(), in_.size());
      if (got == 0) {
        if (last_ret_ != 0)
          fail(file_.path(), ": truncated zstd stream (the file ends inside a frame, at byte ", file_.position(), ")");
        done_ = true;
        break;
      }
      inb_ = {in_.data(), got, 0};
    }
    ZSTD_outBuffer out{dst + produced, n - produced, 0};
    size_t ret = ZSTD_decompressStream(ctx_, &out, &inb_);
    if (ZSTD_isError(ret))
      fail(file_.path(), ": corrupt zstd data near compressed byte ", file_.position() - (inb_.size - inb_.pos), ": ",
           ZSTD_getErrorName(ret));
    produced += out.pos;
    last_ret_ = ret;
    if (ret == 0 && on_frame) on_frame(file_.position() - (inb_.size - inb_.pos), produced);
  }
  return produced;
}

}  // namespace esm::io
