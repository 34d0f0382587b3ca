#include "io/byte_source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "io/decoders.hpp"
#include "io/stream_index.hpp"

namespace esm::io {

uint64_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, ": cannot open: ", std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, ": is a directory, not a FASTA file");
  return uint64_t(st.st_size);
}

Compression detect_compression(const std::string& path) {
  file_size(path);  // names the path when it is missing or a directory
  InputFile f(path, 0);
  unsigned char m[6] = {0};
  size_t n = 0;
  while (n < sizeof m) {
    size_t got = f.read(reinterpret_cast<char*>(m) + n, sizeof m - n);
    if (!got) break;
    n += got;
  }
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return Compression::Gzip;
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return Compression::Zstd;
  // A zstd skippable frame (magic 0x184D2A50..5F, little-endian) may come first.
  if (n >= 4 && (m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d && m[3] == 0x18) return Compression::Zstd;
  if (n >= 6 && m[0] == 0xfd && !std::memcmp(m + 1, "7zXZ", 4)) fail(path, ": xz-compressed input is not supported (use gzip or zstd)");
  if (n >= 3 && !std::memcmp(m, "BZh", 3)) fail(path, ": bzip2-compressed input is not supported (use gzip or zstd)");
  return Compression::Plain;
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::Plain: return "plain";
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
  }
  return "?";
}

namespace {

class PlainSource final : public ByteSource {
 public:
  PlainSource(const std::string& path, uint64_t start) : file_(path, start), path_(path), start_(start) {}
  size_t read(char* dst, size_t n) override { return file_.read(dst, n); }
  uint64_t lines_before_start() override {
    if (!lines_known_) {
      InputFile f(path_, 0);
      std::vector<char> buf(1 << 20);
      uint64_t left = start_;
      while (left > 0) {
        size_t got = f.read(buf.data(), size_t(std::min<uint64_t>(left, buf.size())));
        if (!got) break;
        lines_ += uint64_t(std::count(buf.data(), buf.data() + got, '\n'));
        left -= got;
      }
      lines_known_ = true;
    }
    return lines_;
  }

 private:
  InputFile file_;
  std::string path_;
  uint64_t start_;
  uint64_t lines_ = 0;
  bool lines_known_ = false;
};

template <typename Decoder>
class CompressedSource final : public ByteSource {
 public:
  CompressedSource(std::unique_ptr<Decoder> dec, uint64_t lines) : dec_(std::move(dec)), lines_(lines) {}
  // Decodes and drops the bytes between the restart point and the wanted start.
  void skip(uint64_t count) {
    std::vector<char> buf(std::min<uint64_t>(count, 256 << 10));
    while (count > 0) {
      size_t got = dec_->read(buf.data(), size_t(std::min<uint64_t>(count, buf.size())));
      if (!got) break;
      lines_ += uint64_t(std::count(buf.data(), buf.data() + got, '\n'));
      count -= got;
    }
  }
  size_t read(char* dst, size_t n) override { return dec_->read(dst, n); }
  uint64_t lines_before_start() override { return lines_; }

 private:
  std::unique_ptr<Decoder> dec_;
  uint64_t lines_;
};

std::string inflate_window(const std::string& path, const std::string& packed) {
  std::string out(32768, '\0');
  uLongf len = out.size();
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(packed.data()), packed.size()) != Z_OK)
    fail(index_path(path), ": corrupt window in index (re-run esmpipe index --force)");
  out.resize(len);
  return out;
}

}  // namespace

std::unique_ptr<ByteSource> open_plain(const std::string& path, uint64_t start) {
  return std::make_unique<PlainSource>(path, start);
}

std::unique_ptr<ByteSource> open_compressed(const std::string& path, Compression c, const StreamIndex* index,
                                            uint64_t start) {
  RestartPoint origin;
  if (index) origin = index->point_before(start);
  if (c == Compression::Gzip) {
    std::unique_ptr<GzipDecoder> dec;
    if (origin.in_deflate)
      dec = std::make_unique<GzipDecoder>(path, origin.coffset, origin.bits, inflate_window(path, origin.window));
    else
      dec = std::make_unique<GzipDecoder>(path, origin.coffset);
    auto src = std::make_unique<CompressedSource<GzipDecoder>>(std::move(dec), origin.lines);
    src->skip(start - origin.uoffset);
    return src;
  }
  if (c == Compression::Zstd) {
    auto src = std::make_unique<CompressedSource<ZstdDecoder>>(std::make_unique<ZstdDecoder>(path, origin.coffset), origin.lines);
    src->skip(start - origin.uoffset);
    return src;
  }
  fail(path, ": not a compressed file");
}

}  // namespace esm::io
