// Throughput of the CUDA backend on one model and one sequence file ("id<TAB>residues" lines):
// tokens/s, sequences/s, model FLOPs utilisation and peak GPU memory, as one JSON object on
// stdout. Sequences are tokenized with the 1022-residue crop, sorted by length and batched under
// --max-tokens (plan_batches), exactly as `esmpipe embed` feeds the backend.
//
// --dump PREFIX writes PREFIX.means.f32 ([N, D], input order) and PREFIX.rows.f32 (per-residue
// last layer of the first --dump-rows sequences, concatenated) so run_gpu_bench.py can compare
// with HuggingFace. --compare-fp32 K runs the first K sequences through fp32 mode as well and
// reports the bf16/fp16 minimum per-residue cosine (last layer) and max abs error per layer.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "cuda/cuda_backend.hpp"
#include "encoder/backend.hpp"
#include "encoder/tokenizer.hpp"

using namespace esm;
using namespace esm::embed;

namespace {

struct Args {
  std::string model, sequences, dump, precision = "bf16";
  int64_t max_tokens = 0;
  int dump_rows = 64, compare_fp32 = 0, repeats = 1;
  double peak_tflops = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_cuda_embed --model DIR --sequences FILE [--precision bf16|fp16|fp32]\n"
               "       [--max-tokens N] [--peak-tflops X] [--repeats N] [--dump PREFIX] [--dump-rows K]\n"
               "       [--compare-fp32 K]\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (k == "--model") a.model = val();
    else if (k == "--sequences") a.sequences = val();
    else if (k == "--precision") a.precision = val();
    else if (k == "--max-tokens") a.max_tokens = std::stoll(val());
    else if (k == "--peak-tflops") a.peak_tflops = std::stod(val());
    else if (k == "--repeats") a.repeats = std::stoi(val());
    else if (k == "--dump") a.dump = val();
    else if (k == "--dump-rows") a.dump_rows = std::stoi(val());
    else if (k == "--compare-fp32") a.compare_fp32 = std::stoi(val());
    else usage();
  }
  if (a.model.empty() || a.sequences.empty()) usage();
  return a;
}

std::vector<std::vector<int32_t>> read_sequences(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open ", path);
  std::vector<std::vector<int32_t>> out;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) fail(path, ":", lineno, ": expected id<TAB>residues");
    out.push_back(tokenize(std::string_view(line).substr(tab + 1), kDefaultMaxResidues, nullptr));
  }
  return out;
}

// Forward FLOPs of the encoder layers (LM head excluded): per token 2 * 12 D^2 per layer for the
// linear layers, plus 4 * T * D per layer for QKᵀ and PV over the sequence's T tokens.
double forward_flops(const ModelConfig& c, const std::vector<std::vector<int32_t>>& seqs) {
  double f = 0;
  const double D = c.hidden, F = c.ffn, L = c.num_layers;
  for (const auto& s : seqs) {
    const double T = double(s.size());
    f += T * L * (2.0 * (4.0 * D * D + 2.0 * D * F)) + L * 4.0 * T * T * D;
  }
  return f;
}

double default_peak_tflops(const std::string& name) {
  // Dense bf16/fp16 tensor-core peaks from NVIDIA's data sheets.
  if (name.find("H100") != std::string::npos) return name.find("PCIe") != std::string::npos ? 756 : 989;
  if (name.find("H200") != std::string::npos) return 989;
  if (name.find("A100") != std::string::npos) return 312;
  return 0;
}

void write_f32(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * 4));
  if (!out) fail("cannot write ", path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    auto model = Model::load(a.model);
    const ModelConfig& cfg = model->config();
    auto seqs = read_sequences(a.sequences);
    cudaDeviceProp prop{};
    int dev = 0;
    cudaGetDevice(&dev);
    cudaGetDeviceProperties(&prop, dev);
    const double peak = a.peak_tflops > 0 ? a.peak_tflops : default_peak_tflops(prop.name);

    CudaOptions opt;
    opt.precision = parse_cuda_precision(a.precision);
    opt.max_tokens = a.max_tokens;
    auto backend = make_cuda_backend(model, opt);
    const int64_t max_tokens = cuda_backend_max_tokens(*backend);

    std::vector<size_t> counts;
    for (const auto& s : seqs) counts.push_back(s.size());
    const auto batches = plan_batches(counts, size_t(max_tokens));
    OutputRequest req;
    req.layers = {-1};

    // Warm-up: the first (largest) batch once, so cuBLASLt heuristics and buffers are settled.
    {
      std::vector<std::vector<int32_t>> b;
      for (size_t i : batches.front()) b.push_back(seqs[i]);
      backend->forward(b, req);
    }
    std::vector<float> means(seqs.size() * size_t(cfg.hidden));
    std::vector<float> rows;
    std::vector<std::vector<float>> kept(std::min<size_t>(size_t(a.dump_rows), seqs.size()));
    cudaDeviceSynchronize();
    auto t0 = std::chrono::steady_clock::now();
    for (int rep = 0; rep < a.repeats; ++rep)
      for (const auto& batch : batches) {
        std::vector<std::vector<int32_t>> b;
        for (size_t i : batch) b.push_back(seqs[i]);
        auto out = backend->forward(b, req);
        if (rep == 0)
          for (size_t j = 0; j < batch.size(); ++j) {
            std::copy(out[j].means[0].begin(), out[j].means[0].end(), means.begin() + long(batch[j] * cfg.hidden));
            if (batch[j] < kept.size()) kept[batch[j]] = std::move(out[j].layers[0]);
          }
      }
    cudaDeviceSynchronize();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / a.repeats;
    uint64_t tokens = 0;
    for (size_t c : counts) tokens += c;
    const double flops = forward_flops(cfg, seqs);
    const double tflops = flops / secs / 1e12;

    std::ostringstream json;
    json << "{\"model\": \"" << cfg.name << "\", \"gpu\": \"" << prop.name << "\", \"precision\": \"" << a.precision
         << "\", \"sequences\": " << seqs.size() << ", \"tokens\": " << tokens << ", \"max_tokens\": " << max_tokens
         << ", \"seconds\": " << secs << ", \"tokens_per_s\": " << tokens / secs
         << ", \"sequences_per_s\": " << seqs.size() / secs << ", \"tflops\": " << tflops
         << ", \"peak_tflops\": " << peak << ", \"mfu\": " << (peak > 0 ? tflops / peak : 0.0)
         << ", \"peak_gpu_bytes\": " << cuda_backend_peak_bytes(*backend);

    if (!a.dump.empty()) {
      write_f32(a.dump + ".means.f32", means);
      for (const auto& r : kept) rows.insert(rows.end(), r.begin(), r.end());
      write_f32(a.dump + ".rows.f32", rows);
    }
    if (a.compare_fp32 > 0 && opt.precision != CudaPrecision::FP32) {
      backend.reset();  // room for the fp32 weights
      std::vector<std::vector<int32_t>> sub(seqs.begin(), seqs.begin() + std::min<long>(a.compare_fp32, long(seqs.size())));
      OutputRequest all;
      for (int l = 0; l <= cfg.num_layers; ++l) all.layers.push_back(l);
      auto half = make_cuda_backend(model, opt)->forward(sub, all);
      CudaOptions o32 = opt;
      o32.precision = CudaPrecision::FP32;
      auto full = make_cuda_backend(model, o32)->forward(sub, all);
      double min_cos = 1.0;
      std::vector<double> max_err(size_t(cfg.num_layers) + 1, 0.0);
      for (size_t s = 0; s < sub.size(); ++s) {
        for (int l = 0; l <= cfg.num_layers; ++l) {
          const auto &x = half[s].layers[size_t(l)], &y = full[s].layers[size_t(l)];
          for (size_t i = 0; i < x.size(); ++i) max_err[size_t(l)] = std::max(max_err[size_t(l)], double(std::fabs(x[i] - y[i])));
        }
        const auto &x = half[s].layers.back(), &y = full[s].layers.back();
        for (size_t r = 0; r < x.size(); r += size_t(cfg.hidden)) {
          double ab = 0, aa = 0, bb = 0;
          for (int i = 0; i < cfg.hidden; ++i) {
            ab += double(x[r + i]) * y[r + i];
            aa += double(x[r + i]) * x[r + i];
            bb += double(y[r + i]) * y[r + i];
          }
          min_cos = std::min(min_cos, ab / std::sqrt(aa * bb));
        }
      }
      json << ", \"fp32_compare_sequences\": " << sub.size() << ", \"min_cosine_vs_fp32\": " << min_cos
           << ", \"max_abs_err_per_layer\": [";
      for (size_t l = 0; l < max_err.size(); ++l) json << (l ? ", " : "") << max_err[l];
      json << "]";
    }
    json << "}";
    std::printf("%s\n", json.str().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_embed: %s\n", e.what());
    return 1;
  }
}
