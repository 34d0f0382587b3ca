// Encoder throughput on the CPU: tokens/s of the fast backend for random-weight models of real
// ESM-2 shapes (configs/models) over real sequence lengths (data/mini-uniref UniRef50), with 1
// and 2 threads, and the achieved GFLOP/s as a fraction of this machine's SGEMM peak measured in
// the same run with OpenBLAS (the peer: a large square sgemm, same thread count).
//
//   bench_encoder [--source DIR] [--work DIR] [--models 8M,35M,150M] [--threads 1,2]
//                 [--tokens 8M=N,35M=N,150M=N] [--seed S]
#include <cblas.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "encoder/backend.hpp"
#include "encoder/random_model.hpp"
#include "encoder/tokenizer.hpp"

namespace fs = std::filesystem;
using namespace esm;
using namespace esm::embed;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
// CPU seconds of all threads of this process: on a shared machine, work done per CPU second is
// what stays comparable between runs when other jobs take cores away from us.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, sep);)
    if (!x.empty()) out.push_back(x);
  return out;
}

// Residue counts of every record of a (gzipped) FASTA file.
std::vector<int> fasta_lengths(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail(path, ": cannot open");
  std::vector<int> lens;
  char buf[1 << 16];
  bool header = false, at_line_start = true;
  while (int n = gzread(f, buf, sizeof buf)) {
    if (n < 0) fail(path, ": read error");
    for (int i = 0; i < n; ++i) {
      char c = buf[i];
      if (at_line_start && c == '>') {
        header = true;
        lens.push_back(0);
      } else if (c == '\n') {
        header = false;
      } else if (!header && !lens.empty() && c != '\r' && c != ' ') {
        ++lens.back();
      }
      at_line_start = c == '\n';
    }
  }
  gzclose(f);
  return lens;
}

struct Rate {
  double wall = 0, cpu = 0;  // GFLOP per wall second, GFLOP per CPU second
};

// Best rates of a large square sgemm with `threads` OpenBLAS threads.
Rate sgemm_peak(int threads) {
  openblas_set_num_threads(threads);
  const int n = 2048;
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  Rate best;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now(), c0 = cpu_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    double g = 2.0 * n * n * double(n) / 1e9;
    best.wall = std::max(best.wall, g / (now() - t0));
    best.cpu = std::max(best.cpu, g / (cpu_now() - c0));
  }
  openblas_set_num_threads(1);
  return best;
}

// Forward FLOPs (multiply-adds x 2) of the encoder for one sequence of T tokens, last layer only:
// Q, K, V, O (4 T D^2) and FFN (2 T D F) per layer, attention scores and P V (2 T^2 D).
double flops(const ModelConfig& c, double T) {
  return c.num_layers * 2.0 * (4.0 * T * c.hidden * c.hidden + 2.0 * T * c.hidden * c.ffn + 2.0 * T * T * c.hidden);
}

}  // namespace

int main(int argc, char** argv) {
  std::string source = ESMPIPE_SOURCE_DIR_DEFAULT, work = (fs::temp_directory_path() / "esmpipe-bench-encoder").string();
  std::vector<std::string> models = {"8M", "35M", "150M"};
  std::vector<int> threads = {1, 2};
  std::map<std::string, long> budget = {{"8M", 20000}, {"35M", 8000}, {"150M", 4000}};
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--source") source = v;
    else if (k == "--work") work = v;
    else if (k == "--models") models = split(v, ',');
    else if (k == "--threads") {
      threads.clear();
      for (auto& t : split(v, ',')) threads.push_back(std::stoi(t));
    } else if (k == "--tokens") {
      for (auto& kv : split(v, ',')) budget[kv.substr(0, kv.find('='))] = std::stol(kv.substr(kv.find('=') + 1));
    } else if (k == "--seed") seed = std::stoull(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    std::vector<int> lengths = fasta_lengths(source + "/data/mini-uniref/uniref50.fasta.gz");
    std::mt19937_64 rng(seed);
    std::shuffle(lengths.begin(), lengths.end(), rng);
    std::printf("machine: %u hardware threads; OpenBLAS %s\n", std::thread::hardware_concurrency(), openblas_get_config());
    std::map<int, Rate> peak;
    for (int t : threads) {
      peak[t] = sgemm_peak(t);
      std::printf("SGEMM peak (2048^3, %d thread%s): %.1f GFLOP/s wall, %.1f GFLOP per CPU-second\n", t,
                  t > 1 ? "s" : "", peak[t].wall, peak[t].cpu);
    }
    std::printf("\n%-6s %7s %6s %8s %8s %9s %8s %8s %11s %8s\n", "model", "threads", "seqs", "tokens", "wall-s",
                "tokens/s", "GFLOP/s", "of peak", "GFLOP/cpu-s", "of peak");
    for (const auto& short_name : models) {
      const std::map<std::string, std::string> files = {
          {"8M", "esm2_t6_8M"}, {"35M", "esm2_t12_35M"}, {"150M", "esm2_t30_150M"}, {"650M", "esm2_t33_650M"}};
      if (!files.count(short_name)) fail("unknown model ", short_name);
      ModelCard card = read_model_card(source + "/configs/models/" + files.at(short_name) + ".json");
      std::string dir = work + "/" + files.at(short_name) + "-random";
      if (!fs::exists(dir + "/model.safetensors")) write_random_model(dir, card.config, seed, "F32");
      auto model = Model::load(dir);

      // Real lengths (truncated as extract.py does) until the token budget is reached.
      std::vector<std::vector<int32_t>> seqs;
      long tokens = 0;
      double total_flops = 0;
      std::uniform_int_distribution<int> res(4, 23);
      for (int len : lengths) {
        if (tokens >= budget[short_name]) break;
        int n = std::min(len, kDefaultMaxResidues);
        std::vector<int32_t> t{kCls};
        for (int i = 0; i < n; ++i) t.push_back(res(rng));
        t.push_back(kEos);
        tokens += long(t.size());
        total_flops += flops(card.config, double(t.size()));
        seqs.push_back(std::move(t));
      }
      OutputRequest req{{-1}, false, false};
      for (int t : threads) {
        auto backend = make_backend("cpu", model, t);
        backend->forward({seqs[0]}, req);  // warm-up: page in the weights
        double t0 = now(), c0 = cpu_now();
        // The caller's batching (embed --max-tokens 4096 style); results do not depend on it.
        std::vector<size_t> counts;
        for (const auto& s : seqs) counts.push_back(s.size());
        for (const auto& batch : plan_batches(counts, 4096)) {
          std::vector<std::vector<int32_t>> b;
          for (size_t i : batch) b.push_back(seqs[i]);
          backend->forward(b, req);
        }
        double sec = now() - t0, cpu = cpu_now() - c0, gflops = total_flops / sec / 1e9;
        double gcpu = total_flops / cpu / 1e9;
        std::printf("%-6s %7d %6zu %8ld %8.2f %9.0f %8.1f %7.0f%% %11.1f %7.0f%%\n", short_name.c_str(), t, seqs.size(),
                    tokens, sec, double(tokens) / sec, gflops, 100.0 * gflops / peak[t].wall, gcpu,
                    100.0 * gcpu / peak[t].cpu);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_encoder: %s\n", e.what());
    return 1;
  }
  return 0;
}
