#include "cluster/kmer_select.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
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

// All k-mers of seq with their hash, in sequence order. The reduced letters are looked up in one
// pass first, so the rolling loop reads the digit leaving the window from a small array and
// writes every position without a branch (the count advances only where a k-mer ends).
void all_kmers(std::string_view seq, int k, std::vector<Entry>& out) {
  thread_local std::vector<uint8_t> letters;
  letters.resize(seq.size());
  for (size_t i = 0; i < seq.size(); ++i) letters[i] = kTable.letter[uint8_t(seq[i])];
  out.resize(seq.size());
  uint64_t modulus = 1;
  for (int i = 0; i < k - 1; ++i) modulus *= kReducedAlphabetSize;  // 12^(k-1): drops the oldest digit
  uint64_t code = 0;
  int valid = 0;
  size_t n = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    const uint8_t l = letters[i];
    if (l == kNoLetter) {  // X and unknown letters break k-mers (rare)
      valid = 0;
      code = 0;
      continue;
    }
    if (valid == k) code -= letters[i - k] * modulus;  // the oldest digit (no division)
    else ++valid;
    code = code * kReducedAlphabetSize + l;
    out[n] = {kmer_hash(code), code, uint32_t(i + 1 - k)};
    n += valid == k;
  }
  out.resize(n);
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
  thread_local std::vector<Entry> all, low;
  all_kmers(seq, params.k, all);
  const size_t m = size_t(params.per_seq), n = all.size();
  if (n == 0 || m == 0) return;
  // The hashes are uniform, so a threshold keeps about `want` of them: one branch-free pass,
  // then a sort of those few (selecting with nth_element over all of them was dominated by
  // mispredicted comparisons). Everything left out hashes above everything kept, so the
  // kept ones' first m distinct codes are the reference's; where repeats (low-complexity runs)
  // leave fewer than m distinct, a wider threshold is tried.
  for (size_t want = 2 * m + 8;; want *= 4) {
    if (want >= n) {
      std::sort(all.begin(), all.end());
      take_distinct(all, n, m, out);
      return;
    }
    const uint64_t threshold = uint64_t((unsigned __int128)UINT64_MAX * want / n);
    low.resize(n);
    size_t kept = 0;
    for (const Entry& e : all) {
      low[kept] = e;
      kept += e.hash < threshold;
    }
    std::sort(low.begin(), low.begin() + kept);
    const size_t before = out.size();
    take_distinct(low, kept, m, out);
    if (out.size() - before == m) return;
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
