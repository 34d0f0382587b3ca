#include "encoder/reference_ops.hpp"

#include <algorithm>
#include <cmath>

#include "encoder/tokenizer.hpp"

namespace esm::embed::ref {

void linear(const float* x, const float* W, const float* b, double* y, int T, int in, int out) {
  for (int t = 0; t < T; ++t)
    for (int o = 0; o < out; ++o) {
      double acc = b ? b[o] : 0.0;
      const float* xr = x + size_t(t) * in;
      const float* wr = W + size_t(o) * in;
      for (int i = 0; i < in; ++i) acc += double(xr[i]) * wr[i];
      y[size_t(t) * out + o] = acc;
    }
}

void linear(const float* x, const float* W, const float* b, float* y, int T, int in, int out) {
  std::vector<double> row(static_cast<size_t>(out));
  for (int t = 0; t < T; ++t) {
    linear(x + size_t(t) * in, W, b, row.data(), 1, in, out);
    for (int o = 0; o < out; ++o) y[size_t(t) * out + o] = float(row[size_t(o)]);
  }
}

void layernorm(const float* x, const float* w, const float* b, float* y, int T, int D, float eps) {
  for (int t = 0; t < T; ++t) {
    const float* row = x + size_t(t) * D;
    double mean = 0, var = 0;
    for (int i = 0; i < D; ++i) mean += row[i];
    mean /= D;
    for (int i = 0; i < D; ++i) var += (row[i] - mean) * (row[i] - mean);
    var /= D;
    const double inv = 1.0 / std::sqrt(var + double(eps));
    for (int i = 0; i < D; ++i) y[size_t(t) * D + i] = float((row[i] - mean) * inv * w[i] + b[i]);
  }
}

float gelu(float z) { return float(0.5 * z * (1.0 + std::erf(double(z) / std::sqrt(2.0)))); }

void rotate(float* v, int hd, int p, const std::vector<float>& inv_freq) {
  const int half = hd / 2;
  for (int i = 0; i < half; ++i) {
    const float angle = float(p) * inv_freq[size_t(i)];
    const double c = std::cos(double(angle)), s = std::sin(double(angle));
    const double a = v[i], b = v[i + half];
    v[i] = float(a * c - b * s);
    v[i + half] = float(b * c + a * s);
  }
}

void attention_head(const float* q, const float* k, const float* v, int ld, float* o, int ld_out, int T,
                    int hd, std::vector<double>& probs) {
  probs.assign(size_t(T) * T, 0.0);
  for (int a = 0; a < T; ++a) {
    double* p = probs.data() + size_t(a) * T;
    double mx = -INFINITY;
    for (int b = 0; b < T; ++b) {
      double s = 0;
      for (int i = 0; i < hd; ++i) s += double(q[size_t(a) * ld + i]) * k[size_t(b) * ld + i];
      p[b] = s;
      mx = std::max(mx, s);
    }
    double sum = 0;
    for (int b = 0; b < T; ++b) sum += (p[b] = std::exp(p[b] - mx));
    for (int b = 0; b < T; ++b) p[b] /= sum;
  }
  for (int a = 0; a < T; ++a)
    for (int i = 0; i < hd; ++i) {
      double s = 0;
      for (int b = 0; b < T; ++b) s += probs[size_t(a) * T + b] * v[size_t(b) * ld + i];
      o[size_t(a) * ld_out + i] = float(s);
    }
}

void add_contact_channel(const std::vector<double>& A, int n, double w, std::vector<double>& acc) {
  std::vector<double> S(size_t(n) * n), row(size_t(n), 0.0);
  double total = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double s = A[size_t(i) * n + j] + A[size_t(j) * n + i];
      S[size_t(i) * n + j] = s;
      row[size_t(i)] += s;
      total += s;
    }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double apc = total != 0 ? row[size_t(i)] * row[size_t(j)] / total : 0.0;
      acc[size_t(i) * n + j] += w * (S[size_t(i) * n + j] - apc);
    }
}

std::vector<double> residue_attention(const std::vector<double>& probs, int T) {
  const int n = T - 2;
  std::vector<double> A(size_t(std::max(n, 0)) * std::max(n, 0));
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) A[size_t(a) * n + b] = probs[size_t(a + 1) * T + b + 1];
  return A;
}

std::vector<float> contact_probabilities(const std::vector<double>& acc, double bias) {
  std::vector<float> p(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) p[i] = float(1.0 / (1.0 + std::exp(-(acc[i] + bias))));
  return p;
}

void embed_tokens(const int32_t* tok, int T, const float* table, int D, bool token_dropout, float* x) {
  int masked = 0;
  for (int t = 0; t < T; ++t) masked += tok[t] == kMask;
  // The ratio is taken in float32, as fair-esm does.
  const float ratio = float(masked) / float(T);
  for (int t = 0; t < T; ++t) {
    const bool drop = token_dropout && tok[t] == kMask;
    const float* e = table + size_t(tok[t]) * D;
    float* row = x + size_t(t) * D;
    for (int i = 0; i < D; ++i) {
      const float val = drop ? 0.f : e[i];
      row[i] = token_dropout ? (val * 0.88f) / (1.0f - ratio) : val;
    }
  }
}

void residue_rows_and_mean(const float* residue_rows, int n, int D, std::vector<float>& rows,
                           std::vector<float>& mean) {
  rows.assign(residue_rows, residue_rows + size_t(std::max(n, 0)) * D);
  std::vector<double> sum(size_t(D), 0.0);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < D; ++i) sum[size_t(i)] += residue_rows[size_t(t) * D + i];
  mean.resize(size_t(D));
  for (int i = 0; i < D; ++i) mean[size_t(i)] = n > 0 ? float(sum[size_t(i)] / n) : 0.f;
}

}  // namespace esm::embed::ref
