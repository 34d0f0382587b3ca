// Run under mpirun -n P: the collective ShardReader must give every record to exactly one rank,
// contiguous runs in rank order, identical for plain, gzip (no index: in-memory restart points;
// with a FILE.esmidx sidecar) and multi-frame zstd inputs of the same FASTA.
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/mpi_env.hpp"
#include "fasta_testutil.hpp"
#include "io/fasta.hpp"
#include "io/stream_index.hpp"

using namespace esm;
using namespace esm::io::testutil;

namespace {

std::string dump(const io::FastaRecord& r) { return str(r.offset, '\t', r.id, '\t', r.description, '\t', r.seq, '\n'); }

// Every rank's records, concatenated in rank order (on rank 0).
std::string collective_read(const std::string& path) {
  io::ShardReader reader(path);
  std::string mine;
  io::FastaRecord rec;
  while (reader.next(rec)) mine += dump(rec);
  std::string all;
  for (const auto& part : mpi::gather_bytes(mine)) all += part;
  return all;
}

int check(const std::string& what, const std::string& got, const std::string& want) {
  if (!mpi::is_root()) return 0;
  if (got == want) {
    std::printf("ok   %s (%zu bytes of records, %d ranks)\n", what.c_str(), want.size(), mpi::size());
    return 0;
  }
  std::printf("FAIL %s: collective read differs from the serial read (%zu vs %zu bytes)\n", what.c_str(), got.size(), want.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(&argc, &argv);
  const char* src = std::getenv("ESMPIPE_SOURCE_DIR");
  if (!src) {
    std::fprintf(stderr, "ESMPIPE_SOURCE_DIR not set\n");
    return 2;
  }
  int failures = 0;
  try {
    // The directory name comes from rank 0 so all ranks share it.
    std::string dir = mpi::bcast_string(mpi::is_root() ? TempDir().path.string() : "");
    if (mpi::is_root()) {
      std::filesystem::create_directories(dir);
      std::mt19937_64 rng(42);
      auto f = random_fasta(rng, 400, 600);
      write_bytes(dir + "/r.fa", f.text);
      write_bytes(dir + "/r.fa.gz", gzip_member(f.text));
      write_bytes(dir + "/r.fa.zst", zstd_frames(f.text, 5000));
      write_bytes(dir + "/r.idx.gz", gzip_members(f.text, 20000, true));
      write_file_atomic(io::index_path(dir + "/r.idx.gz"), io::build_stream_index(dir + "/r.idx.gz", 65536).serialize(), true);
      std::filesystem::copy_file(std::string(src) + "/data/mini-uniref/uniref50.fasta.gz", dir + "/u50.fa.gz");
      std::filesystem::copy_file(std::string(src) + "/data/mini-uniref/uniref50.fasta.gz", dir + "/u50.idx.fa.gz");
      write_file_atomic(io::index_path(dir + "/u50.idx.fa.gz"), io::build_stream_index(dir + "/u50.idx.fa.gz", 65536).serialize(), true);
    }
    mpi::barrier();
    std::string serial;
    if (mpi::is_root())
      for (const auto& r : io::read_all(dir + "/r.fa")) serial += dump(r);
    for (std::string name : {"r.fa", "r.fa.gz", "r.fa.zst", "r.idx.gz"}) failures += check(name, collective_read(dir + "/" + name), serial);
    std::string u50;
    if (mpi::is_root())
      for (const auto& r : io::read_all(dir + "/u50.fa.gz")) u50 += dump(r);
    failures += check("uniref50.fasta.gz (no index)", collective_read(dir + "/u50.fa.gz"), u50);
    failures += check("uniref50.fasta.gz (.esmidx)", collective_read(dir + "/u50.idx.fa.gz"), u50);
    mpi::barrier();
    if (mpi::is_root()) std::filesystem::remove_all(dir);
  } catch (const Error& e) {
    mpi::abort_all(e.what(), 1);
  }
  return int(mpi::allreduce_max(uint64_t(failures)));
}
