#include "io/seq_stats.hpp"

#include <cstring>
#include <stdexcept>

#include "core/error.hpp"
#include "io/residues.hpp"

namespace esm::io {

namespace {
// Lowercase letters are counted as their uppercase residue, every other byte as itself.
struct FoldTable {
  std::array<uint8_t, 256> map{};
  constexpr FoldTable() {
    for (int c = 0; c < 256; ++c) map[c] = uint8_t((c >= 'a' && c <= 'z') ? c - 32 : c);
  }
};
constexpr FoldTable kFold{};
}  // namespace

void SeqStats::add(const char* seq, size_t n) {
  ++records;
  residues += n;
  min_len = std::min<uint64_t>(min_len, n);
  max_len = std::max<uint64_t>(max_len, n);
  over_1022 += n > 1022;
  over_1023 += n > 1023;
  if (n < kShort) {
    if (short_lengths_.empty()) short_lengths_.resize(kShort);
    ++short_lengths_[n];
  } else {
    ++length_counts[n];
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(seq);
  uint8_t bad = 0;  // non-zero when some byte is not one of the 25 letters
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++raw_[0][p[i]];
    ++raw_[1][p[i + 1]];
    ++raw_[2][p[i + 2]];
    ++raw_[3][p[i + 3]];
    bad |= uint8_t(!kResidues.fold[p[i]] | !kResidues.fold[p[i + 1]] | !kResidues.fold[p[i + 2]] | !kResidues.fold[p[i + 3]]);
  }
  for (; i < n; ++i) {
    ++raw_[0][p[i]];
    bad |= uint8_t(!kResidues.fold[p[i]]);
  }
  if (!bad) return;
  size_t end = n;
  while (end > 0 && seq[end - 1] == '*') --end;
  terminal_stops += n - end;
  for (size_t j = 0; j < end; ++j)
    if (!kResidues.fold[p[j]]) {
      ++records_with_invalid;
      break;
    }
}

void SeqStats::finish() {
  for (size_t len = 0; len < short_lengths_.size(); ++len)
    if (short_lengths_[len]) length_counts[len] += short_lengths_[len];
  short_lengths_.clear();
  for (auto& part : raw_)
    for (int c = 0; c < 256; ++c) {
      bytes[kFold.map[c]] += part[c];
      part[c] = 0;
    }
}

void SeqStats::merge(const SeqStats& o) {
  finish();
  records += o.records;
  residues += o.residues;
  min_len = std::min(min_len, o.min_len);
  max_len = std::max(max_len, o.max_len);
  over_1022 += o.over_1022;
  over_1023 += o.over_1023;
  terminal_stops += o.terminal_stops;
  records_with_invalid += o.records_with_invalid;
  for (int c = 0; c < 256; ++c) bytes[c] += o.bytes[c];
  for (const auto& [len, count] : o.length_counts) length_counts[len] += count;
}

namespace {
void put(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
uint64_t get(const std::string& s, size_t& pos) {
  if (pos + 8 > s.size()) throw Error("internal error: short stats message");
  uint64_t v;
  std::memcpy(&v, s.data() + pos, 8);
  pos += 8;
  return v;
}
}  // namespace

std::string SeqStats::serialize() const {
  std::string s;
  for (uint64_t v : {records, residues, min_len, max_len, over_1022, over_1023, terminal_stops, records_with_invalid}) put(s, v);
  for (uint64_t v : bytes) put(s, v);
  put(s, length_counts.size());
  for (const auto& [len, count] : length_counts) {
    put(s, len);
    put(s, count);
  }
  return s;
}

SeqStats SeqStats::deserialize(const std::string& s) {
  SeqStats st;
  size_t pos = 0;
  for (uint64_t* v : {&st.records, &st.residues, &st.min_len, &st.max_len, &st.over_1022, &st.over_1023, &st.terminal_stops,
                      &st.records_with_invalid})
    *v = get(s, pos);
  for (auto& v : st.bytes) v = get(s, pos);
  uint64_t n = get(s, pos);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = get(s, pos);
    st.length_counts[len] = get(s, pos);
  }
  return st;
}

double SeqStats::median() const {
  if (!records) return 0;
  // The k-th smallest length (0-based), walking the histogram.
  auto kth = [&](uint64_t k) {
    uint64_t seen = 0;
    for (const auto& [len, count] : length_counts) {
      seen += count;
      if (seen > k) return len;
    }
    return max_len;
  };
  if (records % 2) return double(kth(records / 2));
  return (double(kth(records / 2 - 1)) + double(kth(records / 2))) / 2.0;
}

uint64_t SeqStats::n50() const {
  uint64_t cum = 0;
  for (auto it = length_counts.rbegin(); it != length_counts.rend(); ++it) {
    cum += it->first * it->second;
    if (2 * cum >= residues) return it->first;
  }
  return 0;
}

uint64_t SeqStats::invalid_chars() const {
  uint64_t n = 0;
  for (int c = 0; c < 256; ++c)
    if (!kResidues.fold[c]) n += bytes[c];
  return n - terminal_stops;
}

}  // namespace esm::io
