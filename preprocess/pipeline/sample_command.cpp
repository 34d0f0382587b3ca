// `esmpipe sample`: the training FASTA of one epoch, drawn from a preprocess output directory
// the way ESM-2 trains (ESM-2 paper, suppl. A.1.1): every train cluster once, in a seeded
// shuffled order, each replaced by one of its members drawn uniformly.
//
// Both draws are counter-based, so any cluster's draw can be computed alone:
//   position -> cluster: FeistelPermutation(rows, key(seed, epoch))  (a bijection, O(1) memory)
//   cluster -> member:   uniform_below(counter_hash(seed, kEpochMember, epoch, cluster), count)
// Members are found by seeking, not scanning: starts.mmap/counts.mmap give the member's record
// index in the sampling FASTA, sampling_offsets.mmap (written by preprocess) its byte range.
// With --out, ranks split the epoch's positions into contiguous ranges and write at prefix-sum
// offsets (MPI-IO); to standard output rank 0 writes everything.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "io/ordered_writer.hpp"
#include "pipeline/counter_rng.hpp"

namespace esm {

namespace fs = std::filesystem;

namespace {

// A read-only mapping of a little-endian uint64 array file.
class U64Map {
 public:
  explicit U64Map(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY);
    if (fd_ < 0) fail(path, ": cannot open: ", std::strerror(errno));
    struct stat st {};
    ::fstat(fd_, &st);
    if (st.st_size % 8) fail(path, ": size ", st.st_size, " is not a multiple of 8 (not a uint64 array)");
    n_ = static_cast<uint64_t>(st.st_size) / 8;
    if (n_) {
      data_ = ::mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd_, 0);
      if (data_ == MAP_FAILED) fail(path, ": mmap failed: ", std::strerror(errno));
    }
  }
  ~U64Map() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, n_ * 8);
    if (fd_ >= 0) ::close(fd_);
  }
  uint64_t size() const { return n_; }
  uint64_t operator[](uint64_t i) const {
    uint64_t v;
    std::memcpy(&v, static_cast<const char*>(data_) + 8 * i, 8);
    return v;
  }

 private:
  std::string path_;
  int fd_ = -1;
  void* data_ = nullptr;
  uint64_t n_ = 0;
};

}  // namespace

int cmd_sample(int argc, char** argv) {
  namespace po = cli::po;
  std::string data, out_path;
  uint64_t epoch = 0, seed = 0;
  bool overwrite = false;
  po::options_description o("sample options");
  o.add_options()
      ("data", po::value(&data), "output directory of esmpipe preprocess")
      ("epoch", po::value(&epoch)->default_value(0), "epoch number")
      ("seed", po::value(&seed)->default_value(0), "seed of the epoch order and member draws")
      ("out", po::value(&out_path), "output FASTA (default: standard output, rank 0)")
      ("overwrite", po::bool_switch(&overwrite), "replace an existing --out");
  po::variables_map vm;
  po::positional_options_description pos;
  if (!cli::parse(argc, argv,
                  {"sample", "esmpipe sample --data DIR --epoch E --seed S [--out FILE]",
                   "one epoch of training sequences: each train cluster once, a uniformly drawn member"},
                  o, pos, vm))
    return kExitOk;
  if (data.empty()) fail("--data is required (see 'esmpipe sample --help')");
  const fs::path dir(data);
  U64Map starts((dir / "starts.mmap").string()), counts((dir / "counts.mmap").string());
  U64Map offsets((dir / "sampling_offsets.mmap").string());
  const std::string fasta = (dir / "uniref90membersandreps_ur50trainfiltreps.fasta").string();
  if (starts.size() != counts.size())
    fail(data, ": starts.mmap has ", starts.size(), " entries but counts.mmap ", counts.size());
  if (offsets.size() == 0) fail(data, ": sampling_offsets.mmap is empty");
  const uint64_t records = offsets.size() - 1, rows = starts.size();
  if (offsets[records] != fs::file_size(fasta))
    fail(fasta, ": size ", fs::file_size(fasta), " does not match sampling_offsets.mmap (", offsets[records],
         "); the directory is incomplete or was modified");
  int fd = ::open(fasta.c_str(), O_RDONLY);
  if (fd < 0) fail(fasta, ": cannot open: ", std::strerror(errno));

  const int P = mpi::size(), rank = mpi::rank();
  const uint64_t lo = rows * rank / P, hi = rows * (rank + 1) / P;
  prep::FeistelPermutation order(rows, prep::counter_hash(seed, prep::RngStream::kEpochOrder, epoch));
  auto record_of = [&](uint64_t position) {
    uint64_t cluster = order(position);
    uint64_t n = counts[cluster];
    if (n == 0 || starts[cluster] + n > records) fail(data, ": cluster ", cluster, " has a bad start/count");
    return starts[cluster] + prep::uniform_below(prep::counter_hash(seed, prep::RngStream::kEpochMember, epoch, cluster), n);
  };
  uint64_t my_bytes = 0;
  for (uint64_t i = lo; i < hi && !out_path.empty(); ++i) {
    uint64_t r = record_of(i);
    my_bytes += offsets[r + 1] - offsets[r];
  }
  std::string buf;
  auto fetch = [&](uint64_t r) {
    buf.resize(offsets[r + 1] - offsets[r]);
    ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offsets[r]));
    if (got != static_cast<ssize_t>(buf.size())) fail(fasta, ": short read at byte ", offsets[r]);
    if (buf.empty() || buf[0] != '>') fail(fasta, ": record ", r, " does not start with '>' at byte ", offsets[r]);
  };
  Progress progress("sample", hi - lo, "seqs");
  if (!out_path.empty()) {
    if (rank == 0) check_can_write(out_path, overwrite);
    mpi::barrier();
    {
      io::OrderedWriter out(out_path, my_bytes);
      for (uint64_t i = lo; i < hi; ++i) {
        fetch(record_of(i));
        out.write(buf);
        progress.add(1, buf.size());
      }
      out.close();
    }
    if (rank == 0) commit_partial(out_path);
    mpi::barrier();
  } else if (rank == 0) {
    // Standard output: rank 0 writes the whole epoch (mpirun does not keep ranks' output in order).
    for (uint64_t i = 0; i < rows; ++i) {
      fetch(record_of(i));
      std::cout.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      progress.add(1, buf.size());
    }
    std::cout.flush();
    if (!std::cout) fail("sample: writing to standard output failed");
  }
  progress.finish();
  ::close(fd);
  log::info0(str("sample: epoch ", epoch, ", seed ", seed, ": ", rows, " sequences, one per train cluster"));
  return kExitOk;
}

}  // namespace esm
