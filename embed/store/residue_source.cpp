#include "store/residue_source.hpp"

#include <unistd.h>

#include <algorithm>

#include "core/error.hpp"
#include "io/byte_source.hpp"
#include "io/fasta_scanner.hpp"
#include "io/residues.hpp"

namespace esm::store {
namespace {

constexpr size_t kFlushBytes = 8 << 20;     // stage writes of about this size
constexpr uint64_t kMaxGap = 1 << 16;       // header bytes between records are padded up to this
constexpr size_t kMaxIo = size_t(1) << 30;  // one MPI-IO call stays below the int count limit

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, size_t(len));
}

}  // namespace

ResidueSource::ResidueSource(const std::string& fasta, const std::string& stage_path, MPI_Comm comm)
    : fasta_(fasta), stage_path_(stage_path), comm_(comm) {
  staged_ = io::detect_compression(fasta) != io::Compression::Plain;
  if (!staged_) return;
  int rc = MPI_File_open(comm_, stage_path_.c_str(), MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                         MPI_INFO_NULL, &fh_);
  if (rc != MPI_SUCCESS)
    fail("cannot create ", stage_path_, " (residue staging for compressed input, beside the store): ", mpi_error(rc));
  open_ = true;
}

// MPI_File_close is collective and an error may have reached only this rank: leave the handle
// to MPI_Abort and remove the file by name.
ResidueSource::~ResidueSource() { abandon(); }

void ResidueSource::abandon() {
  if (!open_) return;
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  if (rank == 0) ::unlink(stage_path_.c_str());
}

void ResidueSource::add(uint64_t offset, const std::string& residues) {
  if (!staged_) return;
  const uint64_t end = buf_at_ + buf_.size();
  if (!buf_.empty() && (offset < end || offset - end > kMaxGap || buf_.size() >= kFlushBytes)) flush();
  if (buf_.empty()) buf_at_ = offset;
  else buf_.resize(offset - buf_at_, '\0');
  buf_ += residues;
}

void ResidueSource::flush() {
  for (size_t done = 0; done < buf_.size();) {
    size_t n = std::min(kMaxIo, buf_.size() - done);
    MPI_Status st;
    int rc = MPI_File_write_at(fh_, MPI_Offset(buf_at_ + done), buf_.data() + done, int(n), MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) fail("writing ", stage_path_, " (residue staging for compressed input): ", mpi_error(rc));
    done += n;
  }
  buf_.clear();
}

void ResidueSource::seal() {
  if (!staged_) return;
  flush();
  // MPI-IO consistency for data written by one rank and read by another: sync, barrier, sync.
  int rc = MPI_File_sync(fh_);
  MPI_Barrier(comm_);
  if (rc == MPI_SUCCESS) rc = MPI_File_sync(fh_);
  if (rc != MPI_SUCCESS) fail("syncing ", stage_path_, ": ", mpi_error(rc));
}

std::string ResidueSource::fetch(uint64_t offset, uint32_t kept) {
  std::string seq;
  if (staged_) {
    seq.resize(kept);
    MPI_Status st;
    int rc = MPI_File_read_at(fh_, MPI_Offset(offset), seq.data(), int(kept), MPI_BYTE, &st);
    int got = 0;
    if (rc == MPI_SUCCESS) MPI_Get_count(&st, MPI_BYTE, &got);
    if (rc != MPI_SUCCESS || got != int(kept))
      fail("reading ", stage_path_, " at byte ", offset, ": ", rc == MPI_SUCCESS ? "short read" : mpi_error(rc));
    return seq;
  }
  // The scanner's shard [offset, offset+1) holds exactly the record whose '>' is at offset.
  io::ShardScanner scanner(fasta_, io::open_plain(fasta_, offset ? offset - 1 : 0), offset, offset + 1);
  io::RawRecord raw;
  bool ok = scanner.next(raw) && raw.offset == offset && io::apply_residue_policy(raw.seq).ok &&
            raw.seq.size() >= kept;
  if (!ok)
    fail(fasta_, ": the record at byte ", offset, " is not the one read at the start of this run",
         " (was the file changed while esmpipe embed ran?)");
  return std::move(raw.seq);
}

void ResidueSource::close() {
  if (!open_) return;
  open_ = false;
  MPI_File_close(&fh_);  // MPI_MODE_DELETE_ON_CLOSE removes it
}

}  // namespace esm::store
