// The subcommand table: name, one-line summary, entry point. Each entry point parses its own
// options (core/options.hpp) from argv, where argv[0] is the subcommand name.
#pragma once
#include <span>

namespace esm::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

std::span<const Command> commands();

}  // namespace esm::cli
