// FASTA input for every stage: plain, gzip (single/multi-member, BGZF) and zstd
// (single/multi-frame) files, detected by their magic bytes, sharded over MPI ranks.
//
// Sharding: the uncompressed byte stream [0, U) is cut into P equal byte ranges; a record
// belongs to the range that holds its '>' (a '>' at a line start). Plain files seek to their
// range. Compressed files start from the nearest restart point of FILE.esmidx (esmpipe index)
// or, without one, of an index that rank 0 builds in memory and broadcasts. Every path gives
// the same records to the same ranks.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace esm::io {

struct FastaRecord {
  std::string id;           // first word after '>'
  std::string description;  // rest of the header line, trimmed
  std::string seq;          // residues after the residue policy (uppercase, trailing '*' stripped)
  uint64_t offset = 0;      // byte offset of the '>' in the UNCOMPRESSED stream: the global order key
};

enum class InvalidPolicy { Error, Skip };
struct ReadOptions {
  InvalidPolicy invalid = InvalidPolicy::Error;
};

class ShardScanner;
struct RawRecord;

// Collective constructor (all ranks of esm::mpi::comm() call it together); afterwards next() is
// independent per rank. Each record is read by exactly one rank; rank r gets a CONTIGUOUS run of
// records in input order, ranks in order (so global record index = exscan of counts).
class ShardReader {
 public:
  ShardReader(const std::string& path, ReadOptions opt = {});
  // Non-collective variant: explicit shard (rank, nranks) of the file (used by tests/tools).
  ShardReader(const std::string& path, int shard, int nshards, ReadOptions opt = {});
  ~ShardReader();
  ShardReader(ShardReader&&) noexcept;
  ShardReader& operator=(ShardReader&&) noexcept;

  bool next(FastaRecord& rec);  // false at end of this shard
  uint64_t skipped() const { return skipped_ids_.size(); }  // records skipped by InvalidPolicy::Skip
  const std::vector<std::string>& skipped_ids() const { return skipped_ids_; }

 private:
  std::unique_ptr<ShardScanner> scanner_;
  std::unique_ptr<RawRecord> raw_holder_;
  ReadOptions opt_;
  std::vector<std::string> skipped_ids_;
};

// Whole file, serially, in order (small inputs: validation sets, tests).
std::vector<FastaRecord> read_all(const std::string& path, ReadOptions opt = {});

// UniRef header fields, parsed from the right: n=, Tax=, TaxID=, RepID=.
struct UniRefHeader {
  std::string name;
  int64_t n = -1;
  std::string tax, taxid, repid;
};
UniRefHeader parse_uniref_header(const std::string& description);

}  // namespace esm::io
