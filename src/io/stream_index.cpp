#include "io/stream_index.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "io/decoders.hpp"

namespace esm::io {

namespace {

constexpr char kMagic[8] = {'E', 'S', 'M', 'I', 'D', 'X', '1', '\n'};
constexpr size_t kWindow = 32768;

void put64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

struct Cursor {
  const std::string& s;
  size_t pos;
  const std::string& what;
  const char* take(size_t n) {
    if (s.size() - pos < n) fail(what, ": truncated index file (re-run esmpipe index --force)");
    const char* p = s.data() + pos;
    pos += n;
    return p;
  }
  uint64_t u64() {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(take(8));
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  uint8_t u8() { return uint8_t(*take(1)); }
};

// The last `kWindow` bytes of everything decoded so far, for gzip restart points.
class History {
 public:
  void append(const char* p, size_t n) {
    if (n >= kWindow) {
      buf_.assign(p + n - kWindow, p + n);
      return;
    }
    buf_.insert(buf_.end(), p, p + n);
    if (buf_.size() > 2 * kWindow) buf_.erase(buf_.begin(), buf_.end() - kWindow);
  }
  // The window ending `extra` bytes into `p` (bytes produced by the current read so far).
  std::string window(const char* p, size_t extra) const {
    std::string w;
    if (extra < kWindow) {
      size_t from_hist = std::min(buf_.size(), kWindow - extra);
      w.assign(buf_.end() - from_hist, buf_.end());
      w.append(p, extra);
    } else {
      w.assign(p + extra - kWindow, p + extra);
    }
    return w;
  }

 private:
  std::vector<char> buf_;
};

std::string deflate_window(const std::string& w) {
  uLongf len = compressBound(w.size());
  std::string out(len, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(w.data()), w.size(), 6) != Z_OK)
    fail("compress2 failed while building an index");
  out.resize(len);
  return out;
}

}  // namespace

std::string index_path(const std::string& path) { return path + ".esmidx"; }

std::array<uint8_t, 32> file_fingerprint(const std::string& path) {
  uint64_t size = file_size(path);
  Sha256 h;
  std::string sz;
  put64(sz, size);
  h.update(sz.data(), sz.size());
  constexpr uint64_t kPart = 1 << 20;
  std::vector<char> buf(kPart);
  auto hash_range = [&](uint64_t from, uint64_t n) {
    InputFile f(path, from);
    uint64_t got_total = 0;
    while (got_total < n) {
      size_t got = f.read(buf.data(), size_t(std::min<uint64_t>(n - got_total, buf.size())));
      if (!got) break;
      h.update(buf.data(), got);
      got_total += got;
    }
  };
  hash_range(0, std::min(size, kPart));
  if (size > kPart) {
    uint64_t tail_from = std::max(kPart, size - kPart);
    hash_range(tail_from, size - tail_from);
  }
  return h.digest();
}

const RestartPoint& StreamIndex::point_before(uint64_t u) const {
  auto it = std::upper_bound(points.begin(), points.end(), u, [](uint64_t v, const RestartPoint& p) { return v < p.uoffset; });
  if (it == points.begin()) fail("index has no restart point before uncompressed byte ", u);
  return *(it - 1);
}

std::string StreamIndex::serialize() const {
  std::string s(kMagic, sizeof kMagic);
  put64(s, compression == Compression::Gzip ? 1 : 2);
  put64(s, file_size);
  s.append(reinterpret_cast<const char*>(fingerprint.data()), fingerprint.size());
  put64(s, span);
  put64(s, usize);
  put64(s, lines);
  put64(s, points.size());
  for (const auto& p : points) {
    put64(s, p.coffset);
    put64(s, p.uoffset);
    put64(s, p.lines);
    s.push_back(char(p.in_deflate));
    s.push_back(char(p.bits));
    put64(s, p.window.size());
    s += p.window;
  }
  auto digest = Sha256();
  digest.update(s.data(), s.size());
  auto d = digest.digest();
  s.append(reinterpret_cast<const char*>(d.data()), d.size());
  return s;
}

StreamIndex StreamIndex::deserialize(const std::string& bytes, const std::string& what) {
  if (bytes.size() < sizeof kMagic + 32 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail(what, ": not an esmpipe index (bad magic)");
  Sha256 h;
  h.update(bytes.data(), bytes.size() - 32);
  auto d = h.digest();
  if (std::memcmp(d.data(), bytes.data() + bytes.size() - 32, 32) != 0)
    fail(what, ": index checksum mismatch: the index file is damaged (re-run esmpipe index --force)");
  StreamIndex idx;
  Cursor c{bytes, sizeof kMagic, what};
  uint64_t kind = c.u64();
  if (kind != 1 && kind != 2) fail(what, ": unknown compression kind ", kind, " in index");
  idx.compression = kind == 1 ? Compression::Gzip : Compression::Zstd;
  idx.file_size = c.u64();
  std::memcpy(idx.fingerprint.data(), c.take(32), 32);
  idx.span = c.u64();
  idx.usize = c.u64();
  idx.lines = c.u64();
  uint64_t n = c.u64();
  if (n == 0 || n > bytes.size()) fail(what, ": bad restart point count ", n);
  idx.points.resize(n);
  for (auto& p : idx.points) {
    p.coffset = c.u64();
    p.uoffset = c.u64();
    p.lines = c.u64();
    p.in_deflate = c.u8();
    p.bits = c.u8();
    uint64_t wlen = c.u64();
    p.window.assign(c.take(wlen), wlen);
    if (p.bits > 7 || p.in_deflate > 1) fail(what, ": bad restart point in index");
  }
  if (idx.points[0].uoffset != 0) fail(what, ": index does not start at offset 0");
  return idx;
}

StreamIndex build_stream_index(const std::string& path, uint64_t span) {
  StreamIndex idx;
  idx.compression = detect_compression(path);
  if (idx.compression == Compression::Plain) fail(path, ": not gzip or zstd; plain files need no index");
  idx.file_size = file_size(path);
  idx.fingerprint = file_fingerprint(path);
  idx.span = span;
  idx.points.push_back(RestartPoint{});

  std::vector<char> buf(1 << 20);
  History history;
  uint64_t total = 0, lines = 0;
  auto lines_upto = [&](size_t produced) { return lines + uint64_t(std::count(buf.data(), buf.data() + produced, '\n')); };
  auto due = [&](uint64_t u) { return u >= idx.points.back().uoffset + span; };

  auto drain = [&](auto& dec) {
    for (;;) {
      size_t got = dec.read(buf.data(), buf.size());
      if (!got) break;
      history.append(buf.data(), got);
      lines += uint64_t(std::count(buf.data(), buf.data() + got, '\n'));
      total += got;
    }
  };
  if (idx.compression == Compression::Gzip) {
    GzipDecoder dec(path, 0);
    dec.on_block = [&](uint64_t coffset, int bits, size_t produced) {
      uint64_t u = total + produced;
      if (!due(u)) return;
      RestartPoint p;
      p.coffset = coffset;
      p.uoffset = u;
      p.lines = lines_upto(produced);
      p.in_deflate = 1;
      p.bits = uint8_t(bits);
      p.window = deflate_window(history.window(buf.data(), produced));
      idx.points.push_back(std::move(p));
    };
    drain(dec);
  } else {
    ZstdDecoder dec(path, 0);
    dec.on_frame = [&](uint64_t coffset, size_t produced) {
      uint64_t u = total + produced;
      if (!due(u) || coffset >= idx.file_size) return;
      RestartPoint p;
      p.coffset = coffset;
      p.uoffset = u;
      p.lines = lines_upto(produced);
      idx.points.push_back(std::move(p));
    };
    drain(dec);
  }
  idx.usize = total;
  idx.lines = lines;
  while (idx.points.size() > 1 && idx.points.back().uoffset >= total) idx.points.pop_back();
  return idx;
}

bool load_sidecar_index(const std::string& path, StreamIndex& out) {
  std::string ipath = index_path(path);
  if (!std::filesystem::exists(ipath)) return false;
  StreamIndex idx = StreamIndex::deserialize(read_file(ipath), ipath);
  uint64_t size = file_size(path);
  if (idx.file_size != size || idx.fingerprint != file_fingerprint(path))
    fail(ipath, " is stale: it was built for a different version of ", path, " (size ", idx.file_size, " vs ", size,
         " now); rebuild it with 'esmpipe index --force ", path, "' or delete it");
  if (idx.compression != detect_compression(path)) fail(ipath, ": compression kind does not match ", path);
  out = std::move(idx);
  return true;
}

}  // namespace esm::io
