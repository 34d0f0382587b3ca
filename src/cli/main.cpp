// esmpipe: one binary, one subcommand per stage (MMseqs2 style). MPI is initialised here once
// for every subcommand that needs it (commands.hpp); a fatal error on any rank aborts all ranks
// with its message.
#include <boost/program_options/errors.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/manifest.hpp"
#include "core/mpi_env.hpp"

namespace {

void print_help() {
  std::cout << "esmpipe " << esm::tool_version()
            << ": UniRef releases to ESM-2 pretraining data and embedding stores, on one machine or many.\n\n"
               "Usage: esmpipe <command> [options]   (esmpipe <command> --help for its options)\n\n"
               "Commands:\n";
  for (const auto& c : esm::cli::commands()) {
    std::string name = c.name;
    name.resize(12, ' ');
    std::cout << "  " << name << c.summary << "\n";
  }
  std::cout << "\nRun under mpirun/srun for more ranks; every command that reads or writes data is MPI-aware.\n";
}

// Ranks the launcher started, read from its environment (Open MPI, MPICH/Hydra and srun with
// PMI set these); 1 when not started by one. For commands that do not initialise MPI.
int launcher_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? esm::kExitUsage : esm::kExitOk;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version")) {
    std::cout << "esmpipe " << esm::tool_version() << "\n";
    return 0;
  }
  const esm::cli::Command* cmd = nullptr;
  for (const auto& c : esm::cli::commands())
    if (c.run && !std::strcmp(c.name, argv[1])) cmd = &c;
  if (!cmd) {
    std::cerr << "esmpipe: unknown command '" << argv[1] << "' (see 'esmpipe --help')\n";
    return esm::kExitUsage;
  }
  // A one-process command (it may start mpirun itself) refuses to be one of several ranks:
  // without MPI_Init it could not tell, and every rank would do the whole job.
  if (!cmd->needs_mpi && launcher_ranks() > 1) {
    esm::log::error("esmpipe ", cmd->name, ": is one process (", launcher_ranks(),
                    " were started); start it without mpirun/srun");
    return esm::kExitError;
  }
  std::optional<esm::mpi::Session> session;
  if (cmd->needs_mpi) session.emplace(&argc, &argv);
  esm::set_command_line(argc, argv);
  int code = esm::kExitOk;
  try {
    code = cmd->run(argc - 1, argv + 1);
  } catch (const esm::Error& e) {
    bool usage = std::strstr(e.what(), "--help") != nullptr;
    esm::mpi::abort_all(std::string("esmpipe ") + cmd->name + ": " + e.what(), usage ? esm::kExitUsage : esm::kExitError);
  } catch (const std::exception& e) {
    esm::mpi::abort_all(std::string("esmpipe ") + cmd->name + ": internal error: " + e.what(), esm::kExitError);
  }
  return code;
}
