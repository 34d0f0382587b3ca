// Uncompressed bytes of an input file from a given offset on, whatever the compression.
// The FASTA scanner sees only this interface: one virtual call per buffer, never per byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace esm::io {

enum class Compression { Plain, Gzip, Zstd };

// By magic bytes, never by extension. Throws for formats we do not read (xz, bzip2) so the
// user gets "unsupported compression" rather than "invalid residue byte 0xfd".
Compression detect_compression(const std::string& path);
const char* compression_name(Compression c);
uint64_t file_size(const std::string& path);  // throws naming the path

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into dst; 0 only at the end of the stream. Throws esm::Error on corrupt input.
  virtual size_t read(char* dst, size_t n) = 0;
  // Number of '\n' in the uncompressed stream before this source's start offset. Only error
  // messages need it, so plain files compute it lazily.
  virtual uint64_t lines_before_start() = 0;
};

struct StreamIndex;

// Plain file from byte `start`.
std::unique_ptr<ByteSource> open_plain(const std::string& path, uint64_t start);
// A compressed file from uncompressed offset `start`: restarts at the last restart point of
// `index` at or before `start` (or at the file start when index is null) and skips forward.
std::unique_ptr<ByteSource> open_compressed(const std::string& path, Compression c,
                                            const StreamIndex* index, uint64_t start);

}  // namespace esm::io
