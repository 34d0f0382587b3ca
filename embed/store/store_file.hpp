// Creating, checking and finishing a store. These steps run on rank 0 alone with HDF5's serial
// (sec2) driver: variable-length strings (IDs) cannot be written through parallel HDF5 1.10, and
// a structure built in one process can be created under a temporary name and renamed, so a
// store under its final name always has every dataset, attribute and index in place.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "store/layout.hpp"

namespace esm::store {

inline constexpr const char* kFormat = "esmpipe.embeddings";
inline constexpr int kFormatVersion = 1;

struct StoreMeta {
  std::string model_name, model_sha256;
  int num_layers = 0, hidden = 0;
  std::string input_path, input_sha256;  // input_sha256: over every (id, residues) in order
  StoreOptions options;
};

// Writes the full structure (attributes, /sequences, /index, empty row datasets, done = 0,
// complete = 0) to "<path>.partial", then renames it to path. An existing path is replaced
// only by that final rename (the caller has checked --overwrite).
void create_store(const std::string& path, const StoreMeta& meta, const Layout& layout,
                  const std::vector<std::string>& ids);

// For --resume: throws esm::Error naming the first difference (format, model, input, options,
// sequence count, lengths) between the store and this run. Returns /sequences/done.
std::vector<uint8_t> check_resumable(const std::string& path, const StoreMeta& meta, const Layout& layout,
                                     bool* complete);

// Sets `complete` = 1 (all sequences done) and the run statistics attribute.
void mark_complete(const std::string& path, bool complete, const std::string& run_note);

}  // namespace esm::store
