#include "commands.hpp"

// Entry points live in their modules; declared here so the table is the one place to look.
namespace esm {
}  // namespace esm

namespace esm::cli {

namespace {
const Command kCommands[] = {
    {"version", "print the version", nullptr},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace esm::cli
