// Store write throughput without the encoder: every rank pushes synthetic batches (the shapes
// of a real job: length-sorted batches of UniRef-like lengths, hidden size D) through the same
// StoreWriter that `esmpipe embed` uses, then the file is fsync'ed. Prints GB/s of payload.
// Also writes a random-weight model directory for the embed scaling run (--make-model).
//
//   mpirun -n P bench_store_write --out FILE.h5 [--gib 1] [--hidden 1280] [--dtype float32|float16]
//                                 [--sync-seconds S]   (as esmpipe embed --sync-seconds)
//                                 [--zstd LEVEL]
//   bench_store_write --make-model DIR --card configs/models/esm2_t6_8M.json
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_env.hpp"
#include "encoder/model.hpp"
#include "encoder/random_model.hpp"
#include "hdf5/hdf5w.hpp"
#include "store/store_file.hpp"
#include "store/work_counter.hpp"
#include "store/writer.hpp"

using namespace esm;

int main(int argc, char** argv) {
  mpi::Session session(&argc, &argv);
  std::string out, model_dir, card;
  double gib = 1.0, sync_seconds = -1;
  int hidden = 1280, zstd = 0;
  bool half = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { if (i + 1 >= argc) fail(a, " needs a value"); return std::string(argv[++i]); };
    if (a == "--out") out = val();
    else if (a == "--gib") gib = std::stod(val());
    else if (a == "--hidden") hidden = std::stoi(val());
    else if (a == "--dtype") half = val() == "float16";
    else if (a == "--zstd") zstd = std::stoi(val());
    else if (a == "--sync-seconds") sync_seconds = std::stod(val());
    else if (a == "--make-model") model_dir = val();
    else if (a == "--card") card = val();
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  try {
    if (!model_dir.empty()) {
      auto c = embed::read_model_card(card);
      embed::write_random_model(model_dir, c.config, 1, "F32");
      std::printf("wrote random-weight %s model to %s\n", c.config.name.c_str(), model_dir.c_str());
      return 0;
    }
    h5::init();
    // Lengths drawn like UniRef50 (log-normal around 250 residues, capped at 1022).
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> len(5.4, 0.7);
    const uint64_t row_bytes = uint64_t(hidden) * (half ? 2 : 4);
    const uint64_t target_rows = uint64_t(gib * double(1ull << 30)) / row_bytes;
    std::vector<int32_t> lengths;
    for (uint64_t rows = 0; rows < target_rows;) {
      int l = std::min(1022, std::max(20, int(len(rng))));
      lengths.push_back(l);
      rows += l;
    }
    store::StoreOptions o;
    o.layers = {33};
    o.mean = false;
    o.float16 = half;
    o.zstd_level = zstd;
    o.device = "bench";
    auto layout = store::make_layout(lengths, o, hidden);
    if (mpi::rank() == 0) {
      store::StoreMeta meta;
      meta.model_name = "bench";
      meta.num_layers = 33;
      meta.hidden = hidden;
      meta.options = o;
      std::vector<std::string> ids(lengths.size());
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = "seq" + std::to_string(i);
      store::create_store(out, meta, layout, ids);
    }
    mpi::barrier();
    // Batches of consecutive sequences up to 16k tokens, handed out dynamically as in embed.
    std::vector<std::pair<uint64_t, uint64_t>> batches;
    for (uint64_t i = 0; i < lengths.size();) {
      uint64_t j = i, tok = 0;
      while (j < lengths.size() && (j == i || tok + lengths[j] <= 16384)) tok += lengths[j++];
      batches.push_back({i, j});
      i = j;
    }
    std::vector<float> values(1022 * uint64_t(hidden));
    for (size_t i = 0; i < values.size(); ++i) values[i] = float(std::sin(0.001 * double(i)));
    mpi::barrier();
    auto t0 = std::chrono::steady_clock::now();
    {
      store::WorkCounter counter(mpi::comm());
      store::StoreWriter writer(out, layout, o, mpi::comm(), sync_seconds);
      for (int64_t b; (b = counter.next()) < int64_t(batches.size());) {
        store::Batch batch;
        for (uint64_t i = batches[b].first; i < batches[b].second; ++i) {
          store::SequenceRows s;
          s.index = i;
          s.layers.emplace_back(values.begin(), values.begin() + uint64_t(lengths[i]) * hidden);
          batch.push_back(std::move(s));
        }
        writer.push(std::move(batch));
      }
      writer.finish();
    }
    if (mpi::rank() == 0) {
      int fd = ::open(out.c_str(), O_RDONLY);
      ::fsync(fd);
      ::close(fd);
    }
    mpi::barrier();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double bytes = double(layout.payload_bytes());
    if (mpi::rank() == 0)
      std::printf("store write: ranks=%d %s%s sync_seconds=%g payload=%.3f GB time=%.2fs throughput=%.3f GB/s\n",
                  mpi::size(), half ? "float16" : "float32", zstd ? " zstd" : "", sync_seconds, bytes / 1e9, s,
                  bytes / 1e9 / s);
  } catch (const Error& e) {
    mpi::abort_all(std::string("bench_store_write: ") + e.what(), 1);
  }
  return 0;
}
