// The FASTA record scanner under ShardReader and `esmpipe stats`: splits one shard of the
// uncompressed stream into raw records (header line, sequence bytes without line breaks)
// without judging residues. memchr over large buffers; one virtual read per buffer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/byte_source.hpp"

namespace esm::io {

struct StreamIndex;

struct RawRecord {
  std::string header;  // the header line without '>' and trailing whitespace
  std::string seq;     // sequence lines concatenated, each without its trailing whitespace
  uint64_t offset = 0;       // uncompressed offset of the '>'
  uint64_t header_line = 0;  // line of the '>' counted from the scanner start (0-based)
  std::vector<uint64_t> line_ends;  // seq.size() after each sequence line (blank ones included)
};

// Splits a header into ID (first word) and description (rest, trimmed).
void split_header(const std::string& header, std::string& id, std::string& description);

class ShardScanner {
 public:
  // Reads the records whose '>' lies in [begin, end) of the uncompressed stream. `src` starts at
  // uncompressed offset begin-1 (or 0 when begin == 0), so the scanner can see whether the byte
  // before a '>' ends a line. A null src means an empty shard.
  ShardScanner(std::string path, std::unique_ptr<ByteSource> src, uint64_t begin, uint64_t end);
  bool next(RawRecord& r);
  const std::string& path() const { return path_; }
  // 1-based line number in the file of local line `local` (error messages only).
  uint64_t file_line(uint64_t local);
  // 1-based line and column of seq[index] of record r.
  void locate(const RawRecord& r, size_t index, uint64_t& line, uint64_t& column);
  uint64_t bytes_scanned() const { return base_ + pos_; }  // since the source start
  // Size of this shard's byte range, 0 when unknown (a compressed file read as one shard).
  uint64_t range_bytes() const { return end_ == UINT64_MAX || end_ <= begin_ ? 0 : end_ - begin_; }

 private:
  bool refill();
  void start();
  std::string path_;
  std::unique_ptr<ByteSource> src_;
  uint64_t begin_, end_, src_start_;
  std::unique_ptr<char[]> buf_;  // not zero-filled: many tiny shards must stay cheap
  size_t cap_ = 0, pos_ = 0, len_ = 0;
  uint64_t base_ = 0;  // bytes before buf_[0], counted from the source start
  uint64_t line_ = 0;  // '\n' seen before buf_[pos_], counted from the source start
  char prev_byte_ = 0;
  bool started_ = false, done_ = false;
};

// One shard of a file: the plan every reader shares. `index` may be null: plain files need none;
// a compressed file read as one shard needs none; otherwise the sidecar FILE.esmidx is used when
// present, else one is built in memory.
std::unique_ptr<ShardScanner> open_shard(const std::string& path, int shard, int nshards, const StreamIndex* index = nullptr);
// Collective over esm::mpi::comm(): shard rank/size. For a compressed file without a sidecar
// index rank 0 builds one in memory and broadcasts it.
std::unique_ptr<ShardScanner> open_shard_collective(const std::string& path);

}  // namespace esm::io
