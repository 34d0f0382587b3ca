// Restart points into a compressed FASTA (the FILE.esmidx sidecar, also built in memory).
//
// gzip: every `span` uncompressed bytes, at a deflate block boundary, we keep the compressed
// byte offset, the unused bit count of the byte before it and the 32 KiB of output before it
// (the back-reference window); inflate can restart there in raw mode with that dictionary.
// zstd: frame starts (each frame decodes on its own); a single-frame file has one point.
// Each point also carries the number of '\n' before it so errors still name the right line.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "io/byte_source.hpp"

namespace esm::io {

struct RestartPoint {
  uint64_t coffset = 0;  // first compressed byte to feed
  uint64_t uoffset = 0;  // uncompressed offset of the first byte it produces
  uint64_t lines = 0;    // '\n' before uoffset
  uint8_t in_deflate = 0;  // 0: start of a gzip member / zstd frame; 1: inside a deflate stream
  uint8_t bits = 0;        // gzip: unused low bits of byte coffset-1 that belong to the stream
  std::string window;      // gzip in_deflate: the preceding <= 32 KiB, deflate-compressed
};

struct StreamIndex {
  Compression compression = Compression::Gzip;
  uint64_t file_size = 0;
  std::array<uint8_t, 32> fingerprint{};  // see file_fingerprint()
  uint64_t span = 0;
  uint64_t usize = 0;  // uncompressed size
  uint64_t lines = 0;  // '\n' in the whole stream
  std::vector<RestartPoint> points;  // points[0] is the stream start; uoffset increasing

  std::string serialize() const;
  // Throws esm::Error naming `what` when the bytes are not a valid index.
  static StreamIndex deserialize(const std::string& bytes, const std::string& what);
  // The last point with uoffset <= u.
  const RestartPoint& point_before(uint64_t u) const;
};

inline constexpr uint64_t kDefaultIndexSpan = 4ull << 20;

// sha256 over the file size and its first and last MiB: cheap, and survives a copy (mtime does not).
std::array<uint8_t, 32> file_fingerprint(const std::string& path);

std::string index_path(const std::string& path);  // path + ".esmidx"

// One pass over the whole compressed file. Throws on corrupt input (naming the file and offset).
StreamIndex build_stream_index(const std::string& path, uint64_t span = kDefaultIndexSpan);

// Loads path.esmidx if it exists and matches the file; returns false if there is none.
// Throws when it exists but is stale or corrupt: silently ignoring it would hide the problem.
bool load_sidecar_index(const std::string& path, StreamIndex& out);

}  // namespace esm::io
