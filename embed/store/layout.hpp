// The store's shape, fixed before any embedding: which datasets exist, where every sequence's
// rows go, and how datasets are chunked. Depends only on the input lengths and the options,
// never on the rank count, so every run of the same job computes the same layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace esm::store {

// Options that change the bytes of the store. A resumed run must match them exactly.
struct StoreOptions {
  std::vector<int> layers;  // representation indices 0..num_layers, resolved and de-duplicated
  bool per_residue = true, mean = true, logits = false, contacts = false;
  bool float16 = false;     // per_residue and mean in IEEE half; logits and contacts stay float32
  int max_residues = 1022;
  int zstd_level = 0;       // 0: no compression (contiguous datasets, independent writes)
  std::string device;       // backends differ in rounding, so a store is made by one of them
  std::string precision;    // --device cuda only (bf16, fp16, fp32): changes the values too
  // --tensor-parallel: on cuda NCCL sums the row-parallel partials in its own order, so N > 1
  // changes the last bits and is part of the set; on cpu/reference the split gives the N = 1
  // bytes (tests/store/tp_test.sh), so the option is left out there and any N may resume.
  int tensor_parallel = 1;

  // Canonical text stored as the `options` attribute and compared on --resume.
  std::string fingerprint() const;
  std::string dtype() const { return float16 ? "float16" : "float32"; }
};

// Which rows of a dataset belong to a sequence.
enum class RowKind { Residue, Sequence, Contact };

struct DatasetSpec {
  std::string path;     // e.g. /layers/2/per_residue
  RowKind kind;
  uint64_t rows = 0;    // dataset extent (first dimension)
  uint64_t cols = 0;    // second dimension; 0 for a 1-D dataset
  bool half = false;    // stored as IEEE half
  int layer_slot = -1;  // index into StoreOptions::layers for layer datasets
  bool is_mean = false;
  uint64_t chunk_rows = 0;  // compression only; 0 = contiguous
  uint64_t element_bytes() const { return half ? 2 : 4; }
};

struct Layout {
  uint64_t n = 0;                       // sequences
  std::vector<int32_t> length;          // kept residues per sequence
  std::vector<int64_t> offset;          // [n+1] per-residue row ranges
  std::vector<int64_t> contact_offset;  // [n+1] ranges in /contacts/data (sum of length^2)
  std::vector<DatasetSpec> datasets;    // the row datasets every writer fills

  uint64_t residues() const { return offset.empty() ? 0 : offset.back(); }
  // Row range of sequence i in dataset d.
  uint64_t first_row(const DatasetSpec& d, uint64_t i) const;
  uint64_t row_count(const DatasetSpec& d, uint64_t i) const;
  // Bytes of all row datasets (what the run writes).
  uint64_t payload_bytes() const;
};

// kept_lengths: residues per sequence after truncation, in input order; hidden: model width.
Layout make_layout(const std::vector<int32_t>& kept_lengths, const StoreOptions& opt, int hidden);

// The zstd chunk height: about 1 MiB per chunk, from the row width only (rank-independent).
uint64_t chunk_rows_for(uint64_t row_bytes, uint64_t extent);

}  // namespace esm::store
