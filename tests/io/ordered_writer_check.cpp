// Run under mpirun -n P: io::OrderedWriter / io::write_ordered must produce the concatenation of
// every rank's bytes in rank order, for empty parts, parts written in many small pieces and parts
// larger than the writer's buffer (written without buffering); must cut a stale, longer .partial
// to size; and must refuse a rank that writes more, or fewer, bytes than it announced.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/mpi_env.hpp"
#include "fasta_testutil.hpp"
#include "io/ordered_writer.hpp"

using namespace esm;
namespace fs = std::filesystem;

namespace {

// Rank r's part, the same on every rank so each can build the expected file. Rank 1 gets more
// than the 8 MiB buffer; rank 0 nothing when there are several ranks.
std::string part_of(int r, int nranks) {
  size_t n = r == 1 ? (size_t(9) << 20) + 13 : (nranks > 1 && r == 0) ? 0 : 1000 + 777 * size_t(r);
  std::mt19937_64 rng(1000 + r);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('A' + rng() % 26);
  return s;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int failures = 0;
void expect(bool ok, const std::string& what) {
  bool all = mpi::all_true(ok);
  if (mpi::is_root()) std::printf("%s %s (%d ranks)\n", all ? "ok  " : "FAIL", what.c_str(), mpi::size());
  if (!all) ++failures;
}

// Calls fn and reports whether it threw esm::Error.
template <typename Fn>
bool throws(Fn fn) {
  try {
    fn();
  } catch (const Error&) {
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(&argc, &argv);
  const int me = mpi::rank(), P = mpi::size();
  try {
    const fs::path dir = mpi::bcast_string(mpi::is_root() ? io::testutil::TempDir().path.string() : "");
    if (mpi::is_root()) fs::create_directories(dir);
    std::string want;
    for (int r = 0; r < P; ++r) want += part_of(r, P);
    const std::string mine = part_of(me, P);

    // 1. The class, fed in uneven pieces (a u64 header counts as 8 of the announced bytes), over a
    //    stale .partial longer than the result.
    const fs::path a = dir / "pieces.bin";
    if (mpi::is_root()) {
      std::ofstream stale(partial_path(a), std::ios::binary);
      stale << std::string(want.size() + 4096, 'z');
    }
    mpi::barrier();
    {
      io::OrderedWriter out(a, 8 + mine.size());
      out.write_u64(0x0102030405060708ull + uint64_t(me));
      for (size_t at = 0, step = 1; at < mine.size(); at += step, step = step * 3 + 1)
        out.write(std::string_view(mine).substr(at, step));
      uint64_t before = 0;
      for (int r = 0; r < me; ++r) before += 8 + part_of(r, P).size();
      expect(out.offset() == before, "offset is the sum of the lower ranks' bytes");
      expect(out.total() == 8 * uint64_t(P) + want.size(), "total is the whole file's size");
      out.close();
    }
    mpi::barrier();
    if (mpi::is_root()) {
      std::string got = file_bytes(partial_path(a)), expected;
      for (int r = 0; r < P; ++r) {
        uint64_t h = 0x0102030405060708ull + uint64_t(r);
        for (int i = 0; i < 8; ++i) expected += static_cast<char>(h >> (8 * i));
        expected += part_of(r, P);
      }
      std::printf("%s pieces.bin.partial: %zu bytes, want %zu\n", got == expected ? "ok  " : "FAIL", got.size(),
                  expected.size());
      failures += got != expected;
      fs::remove(partial_path(a));
    }

    // 2. The whole-part form: committed under the final name, no .partial left.
    const fs::path b = dir / "whole.txt";
    io::write_ordered(b, mine);
    expect(fs::exists(b) && !fs::exists(partial_path(b)), "write_ordered renames the .partial");
    expect(file_bytes(b) == want, "write_ordered gives the parts in rank order");

    // 3. A rank that writes more than it announced fails at once; one that writes fewer fails
    //    close() on every rank.
    const fs::path c = dir / "short.bin";
    {
      io::OrderedWriter out(c, 4);
      expect(throws([&] { out.write("12345"); }), "writing past the announced bytes is an error");
      bool failed = throws([&] {
        out.write(me == P - 1 ? "123" : "1234");
        out.close();
      });
      expect(failed, "a rank writing fewer bytes than announced fails close() on every rank");
    }
    mpi::barrier();
    if (mpi::is_root()) fs::remove_all(dir);
  } catch (const Error& e) {
    std::fprintf(stderr, "rank %d: %s\n", me, e.what());
    return 1;
  }
  return failures ? 1 : 0;
}
