#include "io/fasta_scanner.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "io/residues.hpp"
#include "io/stream_index.hpp"

namespace esm::io {

namespace {
constexpr size_t kBufferBytes = 4 << 20;
// Longer than any real header; a longer "header" is binary data or a missing newline.
constexpr size_t kMaxHeader = 1 << 20;

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

void rstrip(std::string& s, size_t keep = 0) {
  while (s.size() > keep && is_blank(s.back())) s.pop_back();
}
}  // namespace

void split_header(const std::string& header, std::string& id, std::string& description) {
  size_t a = 0, n = header.size();
  while (a < n && is_blank(header[a])) ++a;
  size_t b = a;
  while (b < n && !is_blank(header[b])) ++b;
  id.assign(header, a, b - a);
  while (b < n && is_blank(header[b])) ++b;
  size_t e = n;
  while (e > b && is_blank(header[e - 1])) --e;
  description.assign(header, b, e - b);
}

ShardScanner::ShardScanner(std::string path, std::unique_ptr<ByteSource> src, uint64_t begin, uint64_t end)
    : path_(std::move(path)), src_(std::move(src)), begin_(begin), end_(end), src_start_(begin ? begin - 1 : 0) {
  if (!src_ || begin_ >= end_) done_ = true;
  else {
    // Small shards get small buffers: tests and tiny files open thousands of shards.
    uint64_t want = end_ - begin_ + 65536;
    cap_ = size_t(std::min<uint64_t>(kBufferBytes, std::max<uint64_t>(want, 65536)));
    buf_ = std::make_unique_for_overwrite<char[]>(cap_);
  }
}

uint64_t ShardScanner::file_line(uint64_t local) { return (src_ ? src_->lines_before_start() : 0) + local + 1; }

void ShardScanner::locate(const RawRecord& r, size_t index, uint64_t& line, uint64_t& column) {
  size_t k = size_t(std::upper_bound(r.line_ends.begin(), r.line_ends.end(), uint64_t(index)) - r.line_ends.begin());
  line = file_line(r.header_line + 1 + k);
  column = index - (k ? r.line_ends[k - 1] : 0) + 1;
}

bool ShardScanner::refill() {
  if (len_) prev_byte_ = buf_[len_ - 1];
  base_ += len_;
  pos_ = len_ = 0;
  len_ = src_->read(buf_.get(), cap_);
  return len_ > 0;
}

// Positions the scanner on the first '>' that starts a line at or after begin_.
void ShardScanner::start() {
  if (begin_ == 0) {
    // The file start: blank lines may come first, anything else is not FASTA.
    bool line_start = true;
    for (;;) {
      if (pos_ == len_ && !refill()) {
        done_ = true;
        return;
      }
      char c = buf_[pos_];
      if (c == '>' && line_start) return;
      if (c == '\n') {
        ++line_;
        line_start = true;
      } else if (is_blank(c)) {
        line_start = false;
      } else {
        fail(path_, ":", file_line(line_), ": not FASTA: expected a '>' header line, found ", describe_byte(c),
             c == '>' ? " after blanks" : "", (uint8_t(c) < 0x20 || uint8_t(c) >= 0x7f) ? " (binary data?)" : "");
      }
      ++pos_;
    }
  }
  // Inside the file: the byte before begin_ tells whether begin_ starts a line.
  if (!refill()) {
    done_ = true;
    return;
  }
  if (buf_[0] == '\n') ++line_;
  pos_ = 1;
  for (;;) {
    if (pos_ == len_ && !refill()) {
      done_ = true;
      return;
    }
    const char* b = buf_.get() + pos_;
    const char* gt = static_cast<const char*>(std::memchr(b, '>', len_ - pos_));
    const char* stop = gt ? gt : buf_.get() + len_;
    line_ += uint64_t(std::count(b, stop, '\n'));
    pos_ = size_t(stop - buf_.get());
    if (!gt) {
      if (src_start_ + base_ + pos_ >= end_) done_ = true;  // past the range: no '>' can be ours
      if (done_) return;
      continue;
    }
    char before = pos_ ? buf_[pos_ - 1] : prev_byte_;
    if (before == '\n') return;
    ++pos_;
    if (src_start_ + base_ + pos_ > end_) {  // no record starts in this shard
      done_ = true;
      return;
    }
  }
}

bool ShardScanner::next(RawRecord& r) {
  if (!started_) {
    started_ = true;
    if (!done_) start();
  }
  if (done_) return false;
  if (pos_ == len_ && !refill()) {
    done_ = true;
    return false;
  }
  uint64_t offset = src_start_ + base_ + pos_;  // buf_[pos_] is a '>' at a line start
  if (offset >= end_) {
    done_ = true;
    return false;
  }
  r.offset = offset;
  r.header_line = line_;
  r.header.clear();
  r.seq.clear();
  r.line_ends.clear();
  ++pos_;
  for (;;) {
    if (pos_ == len_ && !refill()) break;
    const char* b = buf_.get() + pos_;
    size_t n = len_ - pos_;
    const char* nl = static_cast<const char*>(std::memchr(b, '\n', n));
    size_t k = nl ? size_t(nl - b) : n;
    if (r.header.size() + k > kMaxHeader)
      fail(path_, ":", file_line(r.header_line), ": header line longer than ", kMaxHeader,
           " bytes: not a FASTA header (missing newline or binary data?)");
    r.header.append(b, k);
    pos_ += k;
    if (nl) {
      ++pos_;
      ++line_;
      break;
    }
  }
  rstrip(r.header);
  for (;;) {  // sequence lines, up to the next '>' at a line start
    if (pos_ == len_ && !refill()) break;
    if (buf_[pos_] == '>') break;
    size_t line_start = r.seq.size();
    for (;;) {
      const char* b = buf_.get() + pos_;
      size_t n = len_ - pos_;
      const char* nl = static_cast<const char*>(std::memchr(b, '\n', n));
      size_t k = nl ? size_t(nl - b) : n;
      r.seq.append(b, k);
      pos_ += k;
      if (nl) {
        ++pos_;
        ++line_;
        break;
      }
      if (!refill()) break;
    }
    rstrip(r.seq, line_start);
    r.line_ends.push_back(r.seq.size());
  }
  return true;
}

// ---------------------------------------------------------------- shard plans

namespace {
void shard_range(uint64_t total, int shard, int nshards, uint64_t& begin, uint64_t& end) {
  begin = uint64_t((unsigned __int128)total * unsigned(shard) / unsigned(nshards));
  end = uint64_t((unsigned __int128)total * unsigned(shard + 1) / unsigned(nshards));
}
}  // namespace

std::unique_ptr<ShardScanner> open_shard(const std::string& path, int shard, int nshards, const StreamIndex* index) {
  if (nshards < 1 || shard < 0 || shard >= nshards) fail("bad shard ", shard, " of ", nshards, " for ", path);
  Compression c = detect_compression(path);
  uint64_t begin = 0, end = 0;
  if (c == Compression::Plain) {
    shard_range(file_size(path), shard, nshards, begin, end);
    if (begin >= end) return std::make_unique<ShardScanner>(path, nullptr, begin, end);
    return std::make_unique<ShardScanner>(path, open_plain(path, begin ? begin - 1 : 0), begin, end);
  }
  if (nshards == 1 && !index)  // one reader streams the whole file: no index needed
    return std::make_unique<ShardScanner>(path, open_compressed(path, c, nullptr, 0), 0, UINT64_MAX);
  StreamIndex local;
  if (!index) {
    if (!load_sidecar_index(path, local)) local = build_stream_index(path);
    index = &local;
  }
  if (index->compression != c) fail(path, ": index compression kind does not match the file");
  shard_range(index->usize, shard, nshards, begin, end);
  if (begin >= end) return std::make_unique<ShardScanner>(path, nullptr, begin, end);
  return std::make_unique<ShardScanner>(path, open_compressed(path, c, index, begin ? begin - 1 : 0), begin, end);
}

namespace {
// Blocking collectives busy-poll in Open MPI: ranks waiting seconds for rank 0 would burn the
// cores rank 0 needs. A non-blocking barrier polled with short sleeps waits without spinning.
void wait_for_rank0() {
  MPI_Request req;
  MPI_Ibarrier(mpi::comm(), &req);
  int done = 0;
  while (!done) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}
}  // namespace

std::unique_ptr<ShardScanner> open_shard_collective(const std::string& path) {
  int nranks = mpi::size(), rank = mpi::rank();
  if (nranks == 1) return open_shard(path, 0, 1);
  Compression c = detect_compression(path);
  if (c == Compression::Plain) return open_shard(path, rank, nranks);
  StreamIndex idx;
  if (load_sidecar_index(path, idx)) return open_shard(path, rank, nranks, &idx);
  // No sidecar: rank 0 decodes the file once to find restart points; then every rank decodes
  // only its own part. A failure on rank 0 is sent to all ranks so they fail with its message.
  std::string msg;
  if (rank == 0) {
    try {
      msg = build_stream_index(path).serialize();
      msg.insert(msg.begin(), 'I');
    } catch (const Error& e) {
      msg = std::string("E") + e.what();
    }
  }
  wait_for_rank0();
  msg = mpi::bcast_string(msg);
  if (msg.empty() || msg[0] != 'I') throw Error(msg.empty() ? path + ": index broadcast failed" : msg.substr(1));
  idx = StreamIndex::deserialize(msg.substr(1), index_path(path) + " (in memory)");
  log::info0(str(path, ": no ", index_path(path), "; built restart points in memory (",
                 idx.points.size(), " points); 'esmpipe index' saves them for next time"));
  return open_shard(path, rank, nranks, &idx);
}

}  // namespace esm::io
