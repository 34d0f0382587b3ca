// Shared state of one `esmpipe preprocess` run: parameters, paths of the work files each
// stage leaves for the next, and the in-progress manifest that records finished stages.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "align/search_params.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"

namespace esm::prep {

struct PreprocessParams {
  std::string uniref50, uniref90, membership, out;
  double val_fraction = 0.005;
  int64_t val_size = -1;  // -1: use val_fraction
  uint64_t seed = 0;
  align::SearchParams search;
  uint64_t max_residues = 1023;  // 0 = no crop
  std::string crop = "start";    // start | random
  uint64_t min_length = 0;
  uint64_t memory_limit = uint64_t(2) << 30;
  int threads = 1;
  bool force = false;
};

// Stage names, in order; also the values of the test hooks ESMPIPE_TEST_KILL_AFTER_STAGE and
// ESMPIPE_TEST_KILL_IN_STAGE (see docs/ARCHITECTURE.md, preprocess).
inline const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = {"read", "validation", "filter", "attach", "crop", "order", "write"};
  return names;
}

// Status of a UniRef50 record after the validation choice and the filter.
enum class ClusterStatus : uint64_t { Train = 0, Validation = 1, Removed = 2, Short = 3 };

// Values of a UniRef90 record's assignment (else: the UniRef50 record index of its train cluster).
constexpr uint64_t kAssignDropped = ~uint64_t(0) - 1;  // its cluster is validation, removed or short
constexpr uint64_t kAssignNone = ~uint64_t(0);         // orphan or too short itself

struct Context {
  PreprocessParams params;
  int rank = 0, nranks = 1;
  std::string work_dir;
  Manifest manifest;  // manifest.json.partial while running

  std::string work(const std::string& name) const;          // shared by all ranks
  std::string rank_work(const std::string& name) const;     // this rank's own file
  std::string out_path(const std::string& name) const;

  // Per-rank counts recorded by the read stage (kept records, in rank order).
  std::vector<uint64_t> per_rank(const std::string& stage, const std::string& key) const;
  uint64_t base50() const;  // global index of this rank's first kept UniRef50 record
  uint64_t base90() const;
  uint64_t local50() const;
  uint64_t local90() const;
  uint64_t total50() const;
  uint64_t total90() const;

  // The midpoint test hook of a stage (see stage_names()).
  void kill_point(const std::string& stage) const;
};

// Crops a sequence as the parameters say; `index` is the record's global index (UniRef50 or
// UniRef90, told apart by `uniref90`) and keys --crop random.
std::string_view crop(const PreprocessParams& p, std::string_view seq, uint64_t index, bool uniref90);

// Each stage reads its predecessors' work files and returns its counts for the manifest.
// "per_rank" entries in the returned object are arrays indexed by rank.
json::Value stage_read(Context& ctx);
json::Value stage_validation(Context& ctx);
json::Value stage_filter(Context& ctx);
json::Value stage_attach(Context& ctx);
json::Value stage_crop(Context& ctx);
json::Value stage_order(Context& ctx);
json::Value stage_write(Context& ctx);  // writes every output as "<final>.partial"

// The final output files, in the order they are listed in the manifest.
const std::vector<std::string>& output_names();

}  // namespace esm::prep
