// Helpers for the io tests: random FASTA with every edge case, writers for gzip (single,
// multi-member, BGZF-style) and zstd (single, multi-frame), and a plain reference parser.
#pragma once
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/fasta.hpp"

namespace esm::io::testutil {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("esm_io_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), std::streamsize(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// One gzip member; `extra_bc` adds the BGZF "BC" extra subfield.
inline std::string gzip_member(const std::string& data, int level = 6, bool extra_bc = false) {
  z_stream s{};
  if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  gz_header h{};
  unsigned char extra[6] = {'B', 'C', 2, 0, 0, 0};
  if (extra_bc) {
    h.extra = extra;
    h.extra_len = 6;
    deflateSetHeader(&s, &h);
  }
  std::string out(deflateBound(&s, data.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = uInt(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// Members of `chunk` uncompressed bytes each (chunk 0: one member). BGZF ends with an empty member.
inline std::string gzip_members(const std::string& data, size_t chunk, bool bgzf = false) {
  if (!chunk) return gzip_member(data);
  std::string out;
  for (size_t i = 0; i < data.size(); i += chunk) out += gzip_member(data.substr(i, chunk), 6, bgzf);
  if (bgzf) out += gzip_member("", 6, true);
  return out;
}

inline std::string zstd_frames(const std::string& data, size_t chunk) {
  std::string out;
  if (!chunk) chunk = data.size() ? data.size() : 1;
  for (size_t i = 0; i < data.size() || i == 0; i += chunk) {
    std::string part = data.substr(i, chunk);
    std::string buf(ZSTD_compressBound(part.size()), '\0');
    size_t n = ZSTD_compress(buf.data(), buf.size(), part.data(), part.size(), 3);
    if (ZSTD_isError(n)) throw std::runtime_error("ZSTD_compress");
    out.append(buf.data(), n);
    if (data.empty()) break;
  }
  return out;
}

// Random FASTA text with every edge case the reader must handle, and the records it holds.
struct RandomFasta {
  std::string text;
  std::vector<FastaRecord> records;  // what a correct reader returns
};

inline RandomFasta random_fasta(std::mt19937_64& rng, int nrecords, int max_len) {
  static const std::string letters = "ACDEFGHIKLMNPQRSTVWYXBUZOacdefghiklmnpqrstvwyxbuzo";
  auto pick = [&](uint64_t n) { return uint64_t(rng() % n); };
  RandomFasta f;
  bool crlf = pick(3) == 0;
  std::string eol = crlf ? "\r\n" : "\n";
  if (pick(4) == 0) f.text += eol;  // leading blank line
  for (int r = 0; r < nrecords; ++r) {
    FastaRecord rec;
    rec.id = "seq" + std::to_string(r) + (pick(2) ? "|x" : "");
    rec.description = pick(3) ? "desc n=" + std::to_string(pick(100)) + " Tax=Some thing" : "";
    rec.offset = f.text.size();
    f.text += ">" + rec.id + (rec.description.empty() ? "" : " " + rec.description) + (pick(4) == 0 ? "  \t" : "");
    uint64_t len = pick(6) == 0 ? 0 : pick(uint64_t(max_len)) + 1;
    if (pick(20) == 0) len = uint64_t(max_len) * 4;  // longer than a shard
    std::string raw;
    for (uint64_t i = 0; i < len; ++i) raw.push_back(letters[pick(letters.size())]);
    for (char c : raw) rec.seq.push_back(char(std::toupper(static_cast<unsigned char>(c))));
    if (len && pick(5) == 0) raw += "*";
    size_t width = pick(4) == 0 ? raw.size() + 1 : pick(80) + 1;
    bool last = r + 1 == nrecords;
    f.text += eol;
    for (size_t i = 0; i < raw.size(); i += width) {
      f.text += raw.substr(i, width);
      if (pick(8) == 0) f.text += " ";  // trailing whitespace
      f.text += eol;
      if (pick(10) == 0) f.text += eol;  // blank line
    }
    if (last && pick(2) == 0) {  // no final newline
      while (!f.text.empty() && (f.text.back() == '\n' || f.text.back() == '\r')) f.text.pop_back();
    }
    f.records.push_back(rec);
  }
  return f;
}

}  // namespace esm::io::testutil
