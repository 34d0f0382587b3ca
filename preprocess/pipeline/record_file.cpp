#include "pipeline/record_file.hpp"

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace esm::prep {

uint64_t Unpacker::u64() {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (pos_ >= s_.size() || shift > 63) fail("internal: corrupt work record (varint)");
    auto b = static_cast<unsigned char>(s_[pos_++]);
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

std::string_view Unpacker::str() {
  uint64_t n = u64();
  if (n > s_.size() - pos_) fail("internal: corrupt work record (string)");
  std::string_view v = s_.substr(pos_, n);
  pos_ += n;
  return v;
}

double Unpacker::f64() {
  double d;
  if (s_.size() - pos_ < sizeof d) fail("internal: corrupt work record (double)");
  std::memcpy(&d, s_.data() + pos_, sizeof d);
  pos_ += sizeof d;
  return d;
}

RecordWriter::RecordWriter(std::string path, int level) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) fail(path_, ": cannot create work file: ", std::strerror(errno));
  cs_ = ZSTD_createCStream();
  ZSTD_CCtx_setParameter(cs_, ZSTD_c_compressionLevel, level);
  out_.resize(ZSTD_CStreamOutSize());
}

RecordWriter::~RecordWriter() {
  if (cs_) ZSTD_freeCStream(cs_);
  if (file_) std::fclose(file_);
}

void RecordWriter::compress(std::string_view data, ZSTD_EndDirective mode) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t rc = ZSTD_compressStream2(cs_, &out, &in, mode);
    if (ZSTD_isError(rc)) fail(path_, ": zstd: ", ZSTD_getErrorName(rc));
    if (out.pos && std::fwrite(out_.data(), 1, out.pos, file_) != out.pos)
      fail(path_, ": write failed: ", std::strerror(errno));
    bool finished = mode == ZSTD_e_end ? rc == 0 : in.pos == in.size;
    if (finished) return;
  }
}

void RecordWriter::put(std::string_view record) {
  uint64_t n = record.size();
  while (n >= 0x80) { pending_.push_back(static_cast<char>(n | 0x80)); n >>= 7; }
  pending_.push_back(static_cast<char>(n));
  pending_.append(record);
  ++records_;
  raw_bytes_ += record.size();
  if (pending_.size() >= (size_t(1) << 20)) {
    compress(pending_, ZSTD_e_continue);
    pending_.clear();
  }
}

void RecordWriter::close() {
  if (!file_) return;
  compress(pending_, ZSTD_e_end);
  pending_.clear();
  if (std::fflush(file_) != 0 || std::fclose(file_) != 0) {
    file_ = nullptr;
    fail(path_, ": write failed (disk full?)");
  }
  file_ = nullptr;
}

RecordReader::RecordReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) fail(path_, ": cannot open work file: ", std::strerror(errno));
  ds_ = ZSTD_createDStream();
  ZSTD_initDStream(ds_);
  in_.resize(ZSTD_DStreamInSize());
}

RecordReader::~RecordReader() {
  if (ds_) ZSTD_freeDStream(ds_);
  if (file_) std::fclose(file_);
}

// Makes at least n undecoded bytes available in buf_ from pos_; false at a clean end.
bool RecordReader::need(size_t n) {
  while (buf_.size() - pos_ < n) {
    if (pos_ > 0) { buf_.erase(0, pos_); pos_ = 0; }
    if (in_pos_ == in_len_ && !eof_) {
      in_len_ = std::fread(in_.data(), 1, in_.size(), file_);
      in_pos_ = 0;
      if (in_len_ == 0) eof_ = true;
    }
    // Called even with no new input: the decoder may still hold output from earlier input.
    size_t old = buf_.size();
    buf_.resize(old + ZSTD_DStreamOutSize());
    ZSTD_inBuffer ib{in_.data(), in_len_, in_pos_};
    ZSTD_outBuffer ob{buf_.data() + old, ZSTD_DStreamOutSize(), 0};
    size_t rc = ZSTD_decompressStream(ds_, &ob, &ib);
    if (ZSTD_isError(rc)) fail(path_, ": corrupt work file (", ZSTD_getErrorName(rc), "); rerun with --force");
    // The end-of-frame signal (0) is only meaningful from a call that did something.
    if (ob.pos > 0 || ib.pos > in_pos_) pending_ = rc;
    in_pos_ = ib.pos;
    buf_.resize(old + ob.pos);
    if (ob.pos == 0 && eof_ && in_pos_ == in_len_) {
      if (pending_ != 0) fail(path_, ": work file is truncated (rerun with --force)");
      return false;
    }
  }
  return true;
}

bool RecordReader::next(std::string_view& record) {
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (!need(1)) {
      if (shift) fail(path_, ": work file is truncated (rerun with --force)");
      return false;
    }
    auto b = static_cast<unsigned char>(buf_[pos_++]);
    n |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (!need(n)) fail(path_, ": work file is truncated (rerun with --force)");
  record = std::string_view(buf_.data() + pos_, n);
  pos_ += n;
  return true;
}

void write_u64_file(const std::string& path, const std::vector<uint64_t>& values) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail(path, ": cannot create work file: ", std::strerror(errno));
  size_t n = values.empty() ? 0 : std::fwrite(values.data(), sizeof(uint64_t), values.size(), f);
  bool ok = n == values.size() && std::fclose(f) == 0;
  if (!ok) fail(path, ": write failed (disk full?)");
}

std::vector<uint64_t> read_u64_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(path, ": cannot open work file: ", std::strerror(errno));
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  if (size < 0 || size % 8) { std::fclose(f); fail(path, ": work file has a bad size; rerun with --force"); }
  std::vector<uint64_t> v(static_cast<size_t>(size) / 8);
  size_t got = v.empty() ? 0 : std::fread(v.data(), 8, v.size(), f);
  std::fclose(f);
  if (got != v.size()) fail(path, ": short read");
  return v;
}

}  // namespace esm::prep
