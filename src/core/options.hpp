// Command-line + INI parsing shared by every subcommand (Boost.Program_options).
//
// Every subcommand gets --help, --config FILE and --log-level. A config file holds
// `key = value` lines; keys before any [section] and keys under [<subcommand>] apply,
// other sections are skipped (one file can configure several stages). The command line wins.
#pragma once
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace esm::cli {

namespace po = boost::program_options;

struct CommandInfo {
  std::string name;     // e.g. "stats"
  std::string usage;    // e.g. "esmpipe stats [options] FILE..."
  std::string summary;  // one line
};

// Parses argv (argv[0] is the subcommand name). Returns false when --help was printed
// (the caller returns 0). Throws esm::Error (exit 2 in main) on bad options.
bool parse(int argc, char** argv, const CommandInfo& info, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm);

// Comma-separated list option helper: "1,2,-1" -> {"1","2","-1"}.
std::vector<std::string> split_list(const std::string& s, char sep = ',');

// The number of worker threads a rank should use: --threads if > 0, else the cores this
// rank may use (affinity mask) divided among the ranks of this node.
int default_threads();

}  // namespace esm::cli
