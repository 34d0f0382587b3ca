#include "align/scoring.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace esm::align {

namespace {

// NCBI BLOSUM62, rows/columns in kLetters order (20 standard residues).
constexpr int8_t kBlosum62[20][20] = {
    {4, -1, -2, -2, 0, -1, -1, 0, -2, -1, -1, -1, -1, -2, -1, 1, 0, -3, -2, 0},
    {-1, 5, 0, -2, -3, 1, 0, -2, 0, -3, -2, 2, -1, -3, -2, -1, -1, -3, -2, -3},
    {-2, 0, 6, 1, -3, 0, 0, 0, 1, -3, -3, 0, -2, -3, -2, 1, 0, -4, -2, -3},
    {-2, -2, 1, 6, -3, 0, 2, -1, -1, -3, -4, -1, -3, -3, -1, 0, -1, -4, -3, -3},
    {0, -3, -3, -3, 9, -3, -4, -3, -3, -1, -1, -3, -1, -2, -3, -1, -1, -2, -2, -1},
    {-1, 1, 0, 0, -3, 5, 2, -2, 0, -3, -2, 1, 0, -3, -1, 0, -1, -2, -1, -2},
    {-1, 0, 0, 2, -4, 2, 5, -2, 0, -3, -3, 1, -2, -3, -1, 0, -1, -3, -2, -2},
    {0, -2, 0, -1, -3, -2, -2, 6, -2, -4, -4, -2, -3, -3, -2, 0, -2, -2, -3, -3},
    {-2, 0, 1, -1, -3, 0, 0, -2, 8, -3, -3, -1, -2, -1, -2, -1, -2, -2, 2, -3},
    {-1, -3, -3, -3, -1, -3, -3, -4, -3, 4, 2, -3, 1, 0, -3, -2, -1, -3, -1, 3},
    {-1, -2, -3, -4, -1, -2, -3, -4, -3, 2, 4, -2, 2, 0, -3, -2, -1, -2, -1, 1},
    {-1, 2, 0, -1, -3, 1, 1, -2, -1, -3, -2, 5, -1, -3, -1, 0, -1, -3, -2, -2},
    {-1, -1, -2, -3, -1, 0, -2, -3, -2, 1, 2, -1, 5, 0, -2, -1, -1, -1, -1, 1},
    {-2, -3, -3, -3, -2, -3, -3, -3, -1, 0, 0, -3, 0, 6, -4, -2, -2, 1, 3, -1},
    {-1, -2, -2, -1, -3, -1, -1, -2, -2, -3, -3, -1, -2, -4, 7, -1, -1, -4, -3, -2},
    {1, -1, 1, 0, -1, 0, 0, 0, -1, -2, -2, 0, -1, -2, -1, 4, 1, -3, -2, -2},
    {0, -1, 0, -1, -1, -1, -1, -2, -2, -1, -1, -1, -1, -2, -1, 1, 5, -2, -2, 0},
    {-3, -3, -4, -4, -2, -2, -3, -2, -2, -3, -2, -3, -1, 1, -4, -3, -2, 11, 2, -3},
    {-2, -2, -2, -3, -2, -1, -2, -3, 2, -1, -1, -2, -1, 3, -3, -2, -2, 2, 7, -1},
    {0, -3, -3, -3, -1, -2, -2, -3, -3, 3, 1, -2, 1, -1, -2, -2, 0, -3, -1, 4},
};

constexpr std::array<double, 20> kBackground = {
    0.07421622, 0.05161448, 0.04464581, 0.05362601, 0.02468746, 0.03425964, 0.05431193,
    0.07414694, 0.02621297, 0.06791736, 0.09890787, 0.05815569, 0.02499020, 0.04741846,
    0.03853800, 0.05722902, 0.05089137, 0.01302996, 0.03228151, 0.07291911};

// X scores -1 against everything, as in NCBI's BLOSUM62.
Scoring make_blosum62() {
  Scoring s;
  for (int a = 0; a < kAlphabet; ++a)
    for (int b = 0; b < kAlphabet; ++b)
      s.matrix[a][b] = (a < 20 && b < 20) ? kBlosum62[a][b] : int8_t(-1);
  return s;
}

struct CodeTable {
  std::array<uint8_t, 256> code;
  CodeTable() {
    code.fill(kX);
    for (int i = 0; i < 20; ++i) {
      code[uint8_t(kLetters[i])] = uint8_t(i);
      code[uint8_t(kLetters[i] - 'A' + 'a')] = uint8_t(i);
    }
  }
};
// Function-local so other translation units' static initialisers may use it.
const CodeTable& codes_table() {
  static const CodeTable t;
  return t;
}

// MMseqs2 14's gapped parameters for BLOSUM62, gap open 11, extend 1.
constexpr double kLambda = 0.27359865037097330642;
constexpr double kK = 0.044620920658722244834;
constexpr double kA = 1.5938724404943873658, kB = -19.959867650284412122;
constexpr double kAlpha = 30.455610143099914211, kBeta = -622.28684628915891608;
constexpr double kSigma = 29.602444874818868215, kTau = -601.81087985041381216;

// One side of ALP's finite-size-corrected effective length for score y and length len.
void effective_side(double y, double len, double& p, double& phi) {
  const double l_y = len - (kA * y + kB);
  const double v_y = std::max(2.0 * kAlpha / kLambda, kAlpha * y + kBeta);
  const double sd = std::sqrt(v_y);
  const double f = l_y / sd;
  phi = 0.5 + 0.5 * std::erf(f / std::sqrt(2.0));
  p = l_y * phi + sd * std::exp(-0.5 * f * f) / std::sqrt(2.0 * M_PI);
}

}  // namespace

uint8_t encode_letter(char c) { return codes_table().code[uint8_t(c)]; }

void encode_into(std::string_view residues, std::vector<uint8_t>& out) {
  const auto& code = codes_table().code;
  out.resize(residues.size());
  for (size_t i = 0; i < residues.size(); ++i) out[i] = code[uint8_t(residues[i])];
}

std::vector<uint8_t> encode(std::string_view residues) {
  const auto& code = codes_table().code;
  std::vector<uint8_t> out(residues.size());
  for (size_t i = 0; i < residues.size(); ++i) out[i] = code[uint8_t(residues[i])];
  return out;
}

const Scoring& blosum62() {
  static const Scoring s = make_blosum62();
  return s;
}

const std::array<double, 20>& background() { return kBackground; }

std::vector<float> composition_bias_reference(const std::vector<uint8_t>& q, const Scoring& s) {
  const int n = int(q.size());
  constexpr int kHalfWindow = 20;
  std::vector<float> bias(n);
  for (int i = 0; i < n; ++i) {
    const auto& row = s.matrix[q[i]];
    const int lo = std::max(0, i - kHalfWindow), hi = std::min(n, i + kHalfWindow);
    int sum = 0;
    for (int j = lo; j < hi; ++j) sum += row[q[j]];
    sum -= row[q[i]];
    float delta = float(sum) / -float(hi - lo);
    for (int a = 0; a < 20; ++a) delta += float(kBackground[a] * row[a]);
    bias[i] = delta;
  }
  return bias;
}

namespace {

// The rounded correction of a position depends only on its window's score sum, the window's
// size and its own letter, so it is tabulated, lazily, once per thread and matrix: a profile
// build then costs a 21-term dot product per position, not 20 more float additions (the float
// additions were 5.7% of a clustering run, one build per center and greedy step).
struct BiasTable {
  static constexpr int kMaxWindow = 40;  // [i-20, i+20)
  static constexpr int16_t kUnset = INT16_MIN;
  std::array<std::array<int8_t, kAlphabet>, kAlphabet> matrix{};
  std::array<std::array<int16_t, 24>, kAlphabet> column{};  // column[r][c] = matrix[c][r]
  bool built = false;
  int sum_min = 0, sums = 0;
  std::vector<int16_t> value;  // [window size - 1][sum - sum_min][letter]

  void prepare(const Scoring& s) {
    if (built && matrix == s.matrix) return;
    matrix = s.matrix;
    for (int r = 0; r < kAlphabet; ++r)
      for (int c = 0; c < kAlphabet; ++c) column[r][c] = matrix[c][r];
    int lo = 0, hi = 0;
    for (const auto& row : matrix)
      for (int8_t v : row) lo = std::min<int>(lo, v), hi = std::max<int>(hi, v);
    sum_min = (kMaxWindow - 1) * lo;  // the window's other positions, at most 39
    sums = (kMaxWindow - 1) * (hi - lo) + 1;
    value.assign(size_t(kMaxWindow) * sums * kAlphabet, kUnset);
    built = true;
  }
  int16_t& at(int window, int sum, int letter) {
    return value[(size_t(window - 1) * sums + size_t(sum - sum_min)) * kAlphabet + letter];
  }
};

// composition_bias_reference's value for one position, rounded half away from zero as the
// profile rounds it (the same float operations in the same order).
int rounded_bias(int sum, int window, const std::array<int8_t, kAlphabet>& row) {
  float delta = float(sum) / -float(window);
  for (int a = 0; a < 20; ++a) delta += float(kBackground[a] * row[a]);
  return int(delta < 0 ? delta - 0.5f : delta + 0.5f);
}

}  // namespace

std::vector<int> composition_bias_rounded(const std::vector<uint8_t>& q, const Scoring& s) {
  thread_local BiasTable table;
  table.prepare(s);
  const int n = int(q.size());
  constexpr int kHalfWindow = BiasTable::kMaxWindow / 2;
  std::vector<int> bias(n);
  // Per letter c, the window's score sum against c slides along: a residue entering or leaving
  // adds or removes its matrix column (a few vector additions, no per-position dot product).
  std::array<int16_t, 24> sum_for{};  // 21 letters, padded
  auto slide = [&](uint8_t r, int sign) {
    const auto& col = table.column[r];
    for (int c = 0; c < 24; ++c) sum_for[c] = int16_t(sum_for[c] + sign * col[c]);
  };
  for (int j = 0; j < std::min(n, kHalfWindow); ++j) slide(q[j], 1);
  for (int i = 0; i < n; ++i) {
    if (i + kHalfWindow - 1 < n && i > 0) slide(q[i + kHalfWindow - 1], 1);
    if (i - kHalfWindow - 1 >= 0) slide(q[i - kHalfWindow - 1], -1);
    const auto& row = s.matrix[q[i]];
    const int window = std::min(n, i + kHalfWindow) - std::max(0, i - kHalfWindow);
    const int sum = sum_for[q[i]] - row[q[i]];
    int16_t& v = table.at(window, sum, q[i]);
    if (v == BiasTable::kUnset) v = int16_t(rounded_bias(sum, window, row));
    bias[i] = v;
  }
  return bias;
}

double Statistics::bit_score(int raw) const {
  return (kLambda * raw - std::log(kK)) / std::log(2.0);
}

double Statistics::evalue(int raw, int qlen, uint64_t db_residues) const {
  const double y = raw;
  double p1, phi1, p2, phi2;
  effective_side(y, qlen, p1, phi1);
  effective_side(y, double(db_residues), p2, phi2);
  const double c_y = std::max(2.0 * kSigma / kLambda, kSigma * y + kTau);
  const double area = p1 * p2 + c_y * phi1 * phi2;
  return area * kK * std::exp(-kLambda * y);
}

int Statistics::min_score(double e, int qlen, uint64_t db_residues) const {
  // E-value falls monotonically with the score; bisect on integers.
  int lo = 0, hi = 1;
  while (evalue(hi, qlen, db_residues) > e) {
    lo = hi;
    hi *= 2;
    if (hi > (1 << 24)) return hi;
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    (evalue(mid, qlen, db_residues) > e ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace esm::align
