#include "io/fasta.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "io/fasta_scanner.hpp"
#include "io/residues.hpp"

namespace esm::io {

ShardReader::ShardReader(const std::string& path, ReadOptions opt)
    : scanner_(open_shard_collective(path)), raw_holder_(std::make_unique<RawRecord>()), opt_(opt) {}

ShardReader::ShardReader(const std::string& path, int shard, int nshards, ReadOptions opt)
    : scanner_(open_shard(path, shard, nshards)), raw_holder_(std::make_unique<RawRecord>()), opt_(opt) {}

ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&&) noexcept = default;

bool ShardReader::next(FastaRecord& rec) {
  RawRecord& raw = *raw_holder_;
  while (scanner_->next(raw)) {
    split_header(raw.header, rec.id, rec.description);
    if (rec.id.empty())
      fail(scanner_->path(), ":", scanner_->file_line(raw.header_line), ": header line has no ID after '>'");
    ResidueCheck check = apply_residue_policy(raw.seq);
    if (!check.ok) {
      if (opt_.invalid == InvalidPolicy::Skip) {
        skipped_ids_.push_back(rec.id);
        continue;
      }
      uint64_t line = 0, column = 0;
      scanner_->locate(raw, check.bad_index, line, column);
      fail(scanner_->path(), ":", line, ":", column, ": record ", rec.id, ": invalid residue ", describe_byte(check.bad_char),
           check.bad_char == '*' ? " ('*' is allowed only at the end)" : "",
           " (allowed: ", kResidueLetters, ", any case; --skip-invalid skips such records)");
    }
    rec.seq.swap(raw.seq);
    rec.offset = raw.offset;
    return true;
  }
  return false;
}

std::vector<FastaRecord> read_all(const std::string& path, ReadOptions opt) {
  ShardReader reader(path, 0, 1, opt);
  std::vector<FastaRecord> out;
  FastaRecord rec;
  while (reader.next(rec)) out.push_back(std::move(rec));
  return out;
}

namespace {
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Cuts " KEY=value" off the right end of `rest` if present: the value runs to the end.
bool take_field(std::string& rest, const std::string& key, std::string& value) {
  size_t pos = rest.size();
  while (pos > 0) {
    pos = rest.rfind(key, pos - 1);
    if (pos == std::string::npos) return false;
    if (pos == 0 || rest[pos - 1] == ' ' || rest[pos - 1] == '\t') {
      value = trim(rest.substr(pos + key.size()));
      rest = trim(rest.substr(0, pos));
      return true;
    }
  }
  return false;
}
}  // namespace

UniRefHeader parse_uniref_header(const std::string& description) {
  UniRefHeader h;
  std::string rest = trim(description), n;
  take_field(rest, "RepID=", h.repid);
  take_field(rest, "TaxID=", h.taxid);
  take_field(rest, "Tax=", h.tax);
  if (take_field(rest, "n=", n)) {
    char* end = nullptr;
    long long v = std::strtoll(n.c_str(), &end, 10);
    if (!n.empty() && end && *end == '\0' && v >= 0) h.n = v;
  }
  h.name = rest;
  return h;
}

}  // namespace esm::io
