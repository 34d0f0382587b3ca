// The local launcher of `esmpipe run`: the mpirun command line for a stage on this machine.
#pragma once
#include <string>
#include <vector>

#include "job.hpp"

namespace esm::jobs {

// mpirun -n RANKS [flags] PROGRAM... ; ESMPIPE_MPIRUN picks the launcher, ESMPIPE_MPIRUN_FLAGS
// and the stage's mpirun_flags add flags. For Open MPI: --bind-to none (each rank runs threads),
// --oversubscribe (slots count cores, not what a laptop can run), --allow-run-as-root as root.
std::vector<std::string> mpirun_command(const Stage& stage, int ranks, const std::vector<std::string>& program);

}  // namespace esm::jobs
