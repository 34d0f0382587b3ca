// The subcommand table: name, one-line summary, entry point, whether it needs MPI. Each entry
// point parses its own options (core/options.hpp) from argv, where argv[0] is the subcommand name.
#pragma once
#include <span>

namespace esm::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
  // false: the command is one process that never calls MPI (it may start mpirun itself), so
  // main() skips MPI_Init, which costs a singleton start (0.4-0.7 s) per call.
  bool needs_mpi = true;
};

std::span<const Command> commands();

}  // namespace esm::cli
