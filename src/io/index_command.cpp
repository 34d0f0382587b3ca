// esmpipe index FILE...: writes FILE.esmidx, the restart points that let P ranks decompress
// their own parts of a gzip or zstd FASTA in parallel. Files are shared out over the ranks.
#include <chrono>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "io/byte_source.hpp"
#include "io/stream_index.hpp"

namespace esm {

int cmd_index(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description opts("index options");
  opts.add_options()
      ("input", po::value<std::vector<std::string>>()->multitoken(), "gzip or zstd FASTA files")
      ("span", po::value<uint64_t>()->default_value(io::kDefaultIndexSpan),
       "uncompressed bytes between gzip restart points (each keeps a 32 KiB window)")
      ("force", po::bool_switch(), "replace an existing FILE.esmidx");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!cli::parse(argc, argv,
                  {"index", "esmpipe index [options] FILE...",
                   "write FILE.esmidx restart points so MPI ranks read a compressed FASTA in parallel"},
                  opts, pos, vm))
    return kExitOk;
  if (!vm.count("input")) fail("no input files (see 'esmpipe index --help')");
  auto inputs = vm["input"].as<std::vector<std::string>>();
  uint64_t span = vm["span"].as<uint64_t>();
  if (span < 65536) fail("--span must be at least 65536 bytes");
  bool force = vm["force"].as<bool>();
  // Refuse early, on every rank, before anyone spends time decompressing.
  for (const auto& path : inputs) {
    if (io::detect_compression(path) == io::Compression::Plain)
      fail(path, ": not gzip or zstd; plain files are split by seeking and need no index");
    check_can_write(io::index_path(path), force, "--force");
  }
  for (size_t i = size_t(mpi::rank()); i < inputs.size(); i += size_t(mpi::size())) {
    const auto& path = inputs[i];
    auto t0 = std::chrono::steady_clock::now();
    io::StreamIndex idx = io::build_stream_index(path, span);
    std::string bytes = idx.serialize();
    write_file_atomic(io::index_path(path), bytes, force);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::info(io::index_path(path), ": ", idx.points.size(), " restart points over ", human_bytes(double(idx.usize)),
              " uncompressed (", io::compression_name(idx.compression), "), index ", human_bytes(double(bytes.size())), ", ",
              human_duration(sec));
    if (idx.compression == io::Compression::Zstd && idx.points.size() == 1 && idx.usize > 2 * span)
      log::warn(path, ": a single zstd frame cannot be split; ranks will each decode from the start "
                "(for parallel reads compress with 'pzstd', which writes independent frames)");
  }
  mpi::barrier();
  return kExitOk;
}

}  // namespace esm
