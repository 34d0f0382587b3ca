// What a stage's outputs say about it: nothing there, partly written, finished for this job,
// or finished from other parameters. Read from the outputs themselves (the preprocess
// manifest, the embedding store's `complete` attribute and /sequences/done), never from a
// side file, so a stage run by hand counts the same as one run by esmpipe run or Slurm.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "job.hpp"

namespace esm::jobs {

enum class State { Missing, Partial, Done, Mismatch };
const char* state_name(State s);  // missing | partial | done | mismatch

struct StageState {
  State state = State::Missing;
  std::string detail;  // one line for people
  // Embed only: progress read from the store.
  bool has_progress = false;
  uint64_t seqs_total = 0, seqs_done = 0, tokens_total = 0, tokens_done = 0;
};

StageState inspect_stage(const Stage& stage);

// The embedding store's completion and progress (no MPI; opens the file read-only without
// HDF5 file locking so a store being written can be read).
struct StoreProgress {
  bool readable = false;
  std::string error;
  int complete = 0;
  uint64_t seqs_total = 0, seqs_done = 0, tokens_total = 0, tokens_done = 0;
  std::map<std::string, std::string> attrs;  // input_path, dtype, max_residues, model_name when present
};
StoreProgress read_store_progress(const std::string& path);

}  // namespace esm::jobs
