// Stage "validation": the validation set is the k UniRef50 records with the smallest
// counter_hash(seed, record index) (ties broken by index) -- a seeded permutation of the
// records in input order, taken from its start. Each rank proposes its own k smallest; the k
// smallest of all proposals are the same whatever the number of ranks.
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "pipeline/counter_rng.hpp"
#include "pipeline/preprocess_context.hpp"
#include "pipeline/record_file.hpp"
#include "pipeline/validation_choice.hpp"

namespace esm::prep {

uint64_t validation_count(const PreprocessParams& p, uint64_t n50) {
  if (p.val_size >= 0) {
    if (static_cast<uint64_t>(p.val_size) >= n50)
      fail("--val-size ", p.val_size, " leaves no training data: the UniRef50 input has ", n50, " records");
    return static_cast<uint64_t>(p.val_size);
  }
  if (!(p.val_fraction >= 0 && p.val_fraction < 1)) fail("--val-fraction must be in [0, 1), got ", p.val_fraction);
  return static_cast<uint64_t>(std::floor(static_cast<long double>(p.val_fraction) * n50));
}

std::vector<uint64_t> choose_validation(uint64_t seed, uint64_t base, uint64_t local, uint64_t k) {
  using Key = std::pair<uint64_t, uint64_t>;  // (hash, index)
  std::vector<Key> mine(local);
  for (uint64_t i = 0; i < local; ++i) mine[i] = {counter_hash(seed, RngStream::kValidation, base + i), base + i};
  if (mine.size() > k) {
    std::nth_element(mine.begin(), mine.begin() + static_cast<long>(k), mine.end());
    mine.resize(k);
  }
  Packer p;
  for (const auto& [h, i] : mine) p.u64(h).u64(i);
  std::vector<std::string> all = mpi::allgather_bytes(p.bytes());
  std::vector<Key> candidates;
  for (const auto& buf : all) {
    Unpacker u(buf);
    while (!u.done()) {
      uint64_t h = u.u64();
      candidates.emplace_back(h, u.u64());
    }
  }
  if (candidates.size() > k) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<long>(k), candidates.end());
    candidates.resize(k);
  }
  std::vector<uint64_t> chosen;
  chosen.reserve(k);
  for (const auto& c : candidates) chosen.push_back(c.second);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

json::Value stage_validation(Context& ctx) {
  const uint64_t n50 = ctx.total50();
  const uint64_t k = validation_count(ctx.params, n50);
  std::vector<uint64_t> chosen = choose_validation(ctx.params.seed, ctx.base50(), ctx.local50(), k);
  ctx.kill_point("validation");
  write_u64_file(ctx.rank_work("valid.u64"), chosen);
  log::info0(str("validation: ", chosen.size(), " of ", n50, " UniRef50 records (seed ", ctx.params.seed, ")"));
  json::Value out;
  out["validation"] = chosen.size();
  out["train_candidates"] = n50 - chosen.size();
  return out;
}

}  // namespace esm::prep
