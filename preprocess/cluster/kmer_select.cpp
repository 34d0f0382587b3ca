#include "cluster/kmer_select.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace esm::cluster {

namespace {

// Residue groups that BLOSUM62 scores positively among themselves. B/Z/U/O follow the residue
// they stand for (D/N, E/Q, C, K); X carries no information and breaks k-mers.
constexpr std::array<const char*, kReducedAlphabetSize> kGroups = {
    "AST", "C", "DNB", "EQZ", "FY", "G", "H", "IV", "KRO", "LM", "P", "W"};

struct ReducedTable {
  std::array<uint8_t, 256> letter{};
  ReducedTable() {
    letter.fill(kNoLetter);
    for (int g = 0; g < kReducedAlphabetSize; ++g)
      for (const char* c = kGroups[g]; *c; ++c) {
        letter[uint8_t(*c)] = uint8_t(g);
        letter[uint8_t(*c - 'A' + 'a')] = uint8_t(g);
      }
    letter[uint8_t('U')] = letter[uint8_t('u')] = letter[uint8_t('C')];
  }
};
const ReducedTable kTable;

struct Entry {
  uint64_t hash, code;
  uint32_t pos;
  bool operator<(const Entry& o) const { return std::tie(hash, code, pos) < std::tie(o.hash, o.code, o.pos); }
};

// All k-mers of seq with their hash, in sequence order.
void all_kmers(std::string_view seq, int k, std::vector<Entry>& out) {
  out.clear();
  uint64_t modulus = 1;
  for (int i = 0; i < k - 1; ++i) modulus *= kReducedAlphabetSize;  // 12^(k-1): drops the oldest digit
  uint64_t code = 0;
  int valid = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    uint8_t l = kTable.letter[uint8_t(seq[i])];
    if (l == kNoLetter) {
      valid = 0;
      code = 0;
      continue;
    }
    if (valid == k) code -= kTable.letter[uint8_t(seq[i - k])] * modulus;  // the oldest digit (no division)
    else ++valid;
    code = code * kReducedAlphabetSize + l;
    if (valid == k) out.push_back({kmer_hash(code), code, uint32_t(i + 1 - k)});
  }
}

// Sorted prefix of `v` without repeated codes (the first, i.e. lowest position, occurrence wins
// because entries sort by position within an equal (hash, code)).
void take_distinct(const std::vector<Entry>& v, size_t n, size_t limit, std::vector<SelectedKmer>& out) {
  size_t taken = 0;
  for (size_t i = 0; i < n && taken < limit; ++i) {
    if (i > 0 && v[i].code == v[i - 1].code) continue;
    out.push_back({v[i].code, v[i].pos});
    ++taken;
  }
}

}  // namespace

uint8_t reduced_letter(char residue) { return kTable.letter[uint8_t(residue)]; }

int auto_kmer_length(double min_seq_id) {
  // 12^k groups: k=10 keeps random collisions rare for 10^8 sequences (12^10 = 6.2e10) while
  // pairs near 50% identity still share a kept k-mer often enough (see docs, Clustering).
  return min_seq_id >= 0.8 ? 12 : 10;
}

uint64_t kmer_hash(uint64_t code) {
  // A 64-bit finaliser (xor-shift-multiply): every input bit affects every output bit, so
  // the lowest hashes are a pseudo-random but fixed sample of k-mer space.
  uint64_t x = code + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void select_kmers(std::string_view seq, const KmerParams& params, std::vector<SelectedKmer>& out) {
  thread_local std::vector<Entry> all;
  all_kmers(seq, params.k, all);
  size_t m = size_t(params.per_seq);
  if (all.empty() || m == 0) return;
  // Only the smallest few need sorting; repeats (low-complexity runs) may need a wider window.
  for (size_t window = std::min(all.size(), 2 * m + 8);; window = std::min(all.size(), window * 4)) {
    if (window < all.size()) std::nth_element(all.begin(), all.begin() + window, all.end());
    std::sort(all.begin(), all.begin() + window);
    size_t before = out.size();
    take_distinct(all, window, m, out);
    if (out.size() - before == m || window == all.size()) return;
    out.resize(before);
  }
}

std::vector<SelectedKmer> select_kmers_reference(std::string_view seq, const KmerParams& params) {
  std::vector<Entry> all;
  all_kmers(seq, params.k, all);
  std::sort(all.begin(), all.end());
  std::vector<SelectedKmer> out;
  take_distinct(all, all.size(), size_t(params.per_seq), out);
  return out;
}

}  // namespace esm::cluster
