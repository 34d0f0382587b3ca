// Per-file sequence statistics for `esmpipe stats`: each rank fills one from its shard, the
// root merges them. Exact median and N50 need every length, so ranks keep a length histogram
// (lengths are small integers; a histogram is tiny next to the list of lengths).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace esm::io {

struct SeqStats {
  uint64_t records = 0, residues = 0;
  uint64_t min_len = UINT64_MAX, max_len = 0;
  uint64_t over_1022 = 0, over_1023 = 0;
  uint64_t terminal_stops = 0;          // trailing '*' (stripped by the residue policy)
  uint64_t records_with_invalid = 0;    // records the residue policy would reject
  std::array<uint64_t, 256> bytes{};    // every sequence byte, letters folded to uppercase
  std::map<uint64_t, uint64_t> length_counts;

  // `seq`: the raw sequence characters of one record (line breaks removed).
  void add(const char* seq, size_t n);
  void finish();  // folds the per-byte counters of add() into `bytes`; call before reading them
  void merge(const SeqStats& o);
  std::string serialize() const;
  static SeqStats deserialize(const std::string& s);

  double mean() const { return records ? double(residues) / double(records) : 0; }
  double median() const;   // mean of the two middle lengths when the count is even (as seqkit)
  uint64_t n50() const;    // the length L where lengths >= L hold at least half the residues
  uint64_t invalid_chars() const;  // bytes outside the 25 letters, trailing '*' excepted

 private:
  // Four partial byte histograms: consecutive equal bytes then do not serialise on one counter.
  std::array<std::array<uint64_t, 256>, 4> raw_{};
  std::vector<uint64_t> short_lengths_;  // counts of lengths < kShort, folded into length_counts by finish()
  static constexpr size_t kShort = 1 << 16;
};

}  // namespace esm::io
