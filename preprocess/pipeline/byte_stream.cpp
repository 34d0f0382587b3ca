#include "pipeline/byte_stream.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "io/byte_source.hpp"

namespace esm::prep {

struct ByteStream::Impl {
  std::unique_ptr<io::ByteSource> source;
};

// The decompression itself is src/io's (one implementation for FASTA and membership files).
ByteStream::ByteStream(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  io::Compression c = io::detect_compression(path);
  impl_->source = c == io::Compression::Plain ? io::open_plain(path, 0) : io::open_compressed(path, c, nullptr, 0);
}

ByteStream::~ByteStream() = default;

size_t ByteStream::read(char* out, size_t n) { return impl_->source->read(out, n); }

namespace {
constexpr size_t kChunk = size_t(1) << 20;
}  // namespace

bool LineReader::next(std::string& line) {
  line.clear();
  for (;;) {
    if (pos_ >= buf_.size()) {
      if (eof_) {
        if (line.empty()) return false;
        break;
      }
      buf_.resize(kChunk);
      size_t got = in_.read(buf_.data(), buf_.size());
      buf_.resize(got);
      pos_ = 0;
      if (got == 0) { eof_ = true; continue; }
    }
    const char* start = buf_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', buf_.size() - pos_));
    if (nl) {
      line.append(start, nl - start);
      pos_ += (nl - start) + 1;
      break;
    }
    line.append(start, buf_.size() - pos_);
    pos_ = buf_.size();
  }
  ++line_no_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

}  // namespace esm::prep
