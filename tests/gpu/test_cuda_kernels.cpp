// Attention kernels against a plain double-precision attention on the CPU, over packed
// sequences whose lengths hit tile edges (1, 2, 17, 64, 65, 130, 300) for every supported head
// dim. Isolates kernel bugs from the rest of the backend. Skips without a GPU.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cuda/kernels.hpp"
#include "gpu_test_util.hpp"

namespace esm::embed::test {
namespace {

using cuda::DType;

template <typename T>
struct Dev {  // a device array, freed at scope exit
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(size_t count) : n(count) { EXPECT_EQ(cudaMalloc(&p, sizeof(T) * std::max<size_t>(n, 1)), cudaSuccess); }
  Dev(const std::vector<T>& h) : Dev(h.size()) {
    EXPECT_EQ(cudaMemcpy(p, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Dev() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), p, sizeof(T) * n, cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
};

struct Packed {
  std::vector<int> lens;
  std::vector<int32_t> cu, tiles;
  std::vector<int64_t> cu_sq;
  int T = 0;
  explicit Packed(std::vector<int> l) : lens(std::move(l)) {
    cu.push_back(0);
    cu_sq.push_back(0);
    for (size_t b = 0; b < lens.size(); ++b) {
      for (int q0 = 0; q0 < lens[b]; q0 += cuda::kAttentionTileRows) {
        tiles.push_back(int32_t(b));
        tiles.push_back(q0);
      }
      T += lens[b];
      cu.push_back(T);
      cu_sq.push_back(cu_sq.back() + int64_t(lens[b]) * lens[b]);
    }
  }
};

// o[t][h*hd + i] and probs as the kernels lay them out, in double.
void cpu_attention(const Packed& pk, int H, int hd, const std::vector<float>& q, const std::vector<float>& k,
                   const std::vector<float>& v, std::vector<double>& o, std::vector<double>& probs) {
  o.assign(size_t(pk.T) * H * hd, 0.0);
  probs.assign(size_t(H) * pk.cu_sq.back(), 0.0);
  for (size_t b = 0; b < pk.lens.size(); ++b) {
    const int s0 = pk.cu[b], len = pk.lens[b];
    for (int h = 0; h < H; ++h) {
      auto at = [&](const std::vector<float>& m, int t, int i) { return double(m[(size_t(h) * pk.T + s0 + t) * hd + i]); };
      double* P = probs.data() + H * pk.cu_sq[b] + int64_t(h) * len * len;
      for (int a = 0; a < len; ++a) {
        double mx = -INFINITY;
        for (int c = 0; c < len; ++c) {
          double s = 0;
          for (int i = 0; i < hd; ++i) s += at(q, a, i) * at(k, c, i);
          P[size_t(a) * len + c] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (int c = 0; c < len; ++c) sum += (P[size_t(a) * len + c] = std::exp(P[size_t(a) * len + c] - mx));
        for (int c = 0; c < len; ++c) P[size_t(a) * len + c] /= sum;
        for (int i = 0; i < hd; ++i) {
          double acc = 0;
          for (int c = 0; c < len; ++c) acc += P[size_t(a) * len + c] * at(v, c, i);
          o[size_t(s0 + a) * H * hd + size_t(h) * hd + i] = acc;
        }
      }
    }
  }
}

float to_float(float x) { return x; }
float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
float to_float(__half x) { return __half2float(x); }

template <typename T>
void check_attention(DType dt, int hd, bool flash, double atol, double rtol) {
  const int H = 3;
  Packed pk({1, 2, 17, 64, 65, 130, 300});
  const size_t n = size_t(H) * pk.T * hd;
  std::mt19937 rng(1234 + hd);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> q(n), k(n), v(n);
  const float qs = 1.0f / std::sqrt(float(hd));
  for (size_t i = 0; i < n; ++i) {
    q[i] = nd(rng) * qs * 2.f;
    k[i] = nd(rng);
    v[i] = nd(rng);
  }
  // Device copies in the kernel's type; the CPU reference uses the same rounded values.
  Dev<float> qf(q), kf(k), vf(v);
  Dev<T> qd(n), kd(n), vd(n), od(size_t(pk.T) * H * hd);
  if (dt == DType::F32) {
    cudaMemcpy(qd.p, qf.p, 4 * n, cudaMemcpyDeviceToDevice);
    cudaMemcpy(kd.p, kf.p, 4 * n, cudaMemcpyDeviceToDevice);
    cudaMemcpy(vd.p, vf.p, 4 * n, cudaMemcpyDeviceToDevice);
  } else {
    cuda::convert_from_f32(qf.p, qd.p, dt, n, nullptr);
    cuda::convert_from_f32(kf.p, kd.p, dt, n, nullptr);
    cuda::convert_from_f32(vf.p, vd.p, dt, n, nullptr);
  }
  auto rounded = [&](const Dev<T>& d) {
    std::vector<T> h = d.get();
    std::vector<float> f(h.size());
    for (size_t i = 0; i < h.size(); ++i) f[i] = to_float(h[i]);
    return f;
  };
  std::vector<float> qr = rounded(qd), kr = rounded(kd), vr = rounded(vd);
  std::vector<double> o_ref, p_ref;
  cpu_attention(pk, H, hd, qr, kr, vr, o_ref, p_ref);

  Dev<int32_t> cu(pk.cu), tiles(pk.tiles);
  Dev<int64_t> cu_sq(pk.cu_sq);
  cuda::ChunkMeta m;
  m.cu_seqlens = cu.p;
  m.attn_tiles = tiles.p;
  m.cu_token_squares = cu_sq.p;
  m.T = pk.T;
  m.B = int(pk.lens.size());
  m.num_tiles = int(pk.tiles.size() / 2);
  Dev<float> probs(size_t(H) * pk.cu_sq.back());
  if (flash) cuda::flash_attention(qd.p, kd.p, vd.p, dt, m, H, hd, od.p, nullptr);
  else cuda::attention_exact(qd.p, kd.p, vd.p, dt, m, H, hd, od.p, probs.p, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

  std::vector<T> o = od.get();
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    double err = std::fabs(double(to_float(o[i])) - o_ref[i]);
    worst = std::max(worst, err);
    if (!(err <= atol + rtol * std::fabs(o_ref[i]))) ++bad;
  }
  EXPECT_EQ(bad, 0u) << (flash ? "flash" : "exact") << " hd " << hd << ": worst abs err " << worst;
  if (!flash) {
    std::vector<float> p = probs.get();
    double pw = 0;
    for (size_t i = 0; i < p.size(); ++i) pw = std::max(pw, std::fabs(double(p[i]) - p_ref[i]));
    EXPECT_LE(pw, 1e-6) << "probabilities hd " << hd;
  }
}

TEST(CudaKernels, ExactAttentionFp32MatchesCpu) {
  ESM_REQUIRE_GPU();
  for (int hd : {16, 24, 32, 64, 128}) check_attention<float>(DType::F32, hd, false, 2e-5, 1e-5);
}

TEST(CudaKernels, FlashAttentionBf16MatchesCpu) {
  ESM_REQUIRE_GPU();
  // P is rounded to bf16 before P V and the output is bf16: 2^-8 relative per rounding.
  for (int hd : {16, 24, 32, 64, 128}) check_attention<__nv_bfloat16>(DType::BF16, hd, true, 2e-2, 2e-2);
}

TEST(CudaKernels, FlashAttentionFp16MatchesCpu) {
  ESM_REQUIRE_GPU();
  for (int hd : {16, 24, 32, 64, 128}) check_attention<__half>(DType::F16, hd, true, 4e-3, 4e-3);
}

}  // namespace
}  // namespace esm::embed::test
