#include "store/layout.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace esm::store {

std::string StoreOptions::fingerprint() const {
  std::string l;
  for (int k : layers) {
    if (!l.empty()) l += ',';
    l += std::to_string(k);  // appended, not "," + ...: GCC 12 warns (-Wrestrict) on that form
  }
  return str("layers=", l, ";per_residue=", per_residue, ";mean=", mean, ";logits=", logits,
             ";contacts=", contacts, ";dtype=", dtype(), ";max_residues=", max_residues,
             ";compression=", zstd_level ? "zstd:" + std::to_string(zstd_level) : "none",
             ";device=", device,
             // Only cuda has a precision; cpu stores keep the fingerprint they always had.
             device == "cuda" ? ";precision=" + precision : std::string(),
             // Only cuda TP > 1 changes values (see layout.hpp); other stores keep their text.
             device == "cuda" && tensor_parallel > 1 ? ";tensor_parallel=" + std::to_string(tensor_parallel) : std::string());
}

uint64_t chunk_rows_for(uint64_t row_bytes, uint64_t extent) {
  constexpr uint64_t kChunkBytes = uint64_t(1) << 20;
  uint64_t rows = std::max<uint64_t>(1, kChunkBytes / std::max<uint64_t>(1, row_bytes));
  return std::max<uint64_t>(1, std::min(rows, extent));
}

uint64_t Layout::first_row(const DatasetSpec& d, uint64_t i) const {
  switch (d.kind) {
    case RowKind::Residue: return offset[i];
    case RowKind::Sequence: return i;
    case RowKind::Contact: return contact_offset[i];
  }
  return 0;
}

uint64_t Layout::row_count(const DatasetSpec& d, uint64_t i) const {
  switch (d.kind) {
    case RowKind::Residue: return length[i];
    case RowKind::Sequence: return 1;
    case RowKind::Contact: return uint64_t(length[i]) * length[i];
  }
  return 0;
}

uint64_t Layout::payload_bytes() const {
  uint64_t b = 0;
  for (const auto& d : datasets) b += d.rows * std::max<uint64_t>(1, d.cols) * d.element_bytes();
  return b;
}

Layout make_layout(const std::vector<int32_t>& kept_lengths, const StoreOptions& opt, int hidden) {
  Layout L;
  L.n = kept_lengths.size();
  L.length = kept_lengths;
  L.offset.assign(L.n + 1, 0);
  L.contact_offset.assign(L.n + 1, 0);
  for (uint64_t i = 0; i < L.n; ++i) {
    if (kept_lengths[i] < 0) fail("internal: negative length for sequence ", i);
    L.offset[i + 1] = L.offset[i] + kept_lengths[i];
    L.contact_offset[i + 1] = L.contact_offset[i] + int64_t(kept_lengths[i]) * kept_lengths[i];
  }
  const uint64_t D = hidden;
  auto add = [&](DatasetSpec d) {
    if (opt.zstd_level > 0 && d.rows > 0)
      d.chunk_rows = chunk_rows_for(std::max<uint64_t>(1, d.cols) * d.element_bytes(), d.rows);
    L.datasets.push_back(std::move(d));
  };
  for (size_t s = 0; s < opt.layers.size(); ++s) {
    std::string base = "/layers/" + std::to_string(opt.layers[s]);
    if (opt.per_residue) add({base + "/per_residue", RowKind::Residue, L.residues(), D, opt.float16, int(s), false});
    if (opt.mean) add({base + "/mean", RowKind::Sequence, L.n, D, opt.float16, int(s), true});
  }
  if (opt.logits) add({"/logits", RowKind::Residue, L.residues(), 33, false, -1, false});
  if (opt.contacts) add({"/contacts/data", RowKind::Contact, uint64_t(L.contact_offset.back()), 0, false, -1, false});
  return L;
}

}  // namespace esm::store
