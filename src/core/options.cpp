#include "core/options.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"

namespace esm::cli {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Reads the INI file ourselves: Boost's own parser rejects unknown keys in other sections
// and cannot tell us the line number of a bad one.
po::parsed_options parse_ini(const std::string& path, const std::string& command, const po::options_description& desc) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open config file");
  po::parsed_options parsed(&desc);
  std::string line, section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') fail(path, ":", lineno, ": malformed section header '", t, "'");
      section = trim(t.substr(1, t.size() - 2));
      continue;
    }
    if (!section.empty() && section != command) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) fail(path, ":", lineno, ": expected 'key = value', found '", t, "'");
    std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    // Inline comments: "key = value   # why".
    size_t hash = value.find(" #");
    if (hash != std::string::npos) value = trim(value.substr(0, hash));
    if (key == "config") fail(path, ":", lineno, ": 'config' cannot be set inside a config file");
    if (!desc.find_nothrow(key, false))
      fail(path, ":", lineno, ": unknown option '", key, "' for 'esmpipe ", command, "'");
    po::option opt(key, {value});
    opt.original_tokens = {key, value};
    parsed.options.push_back(std::move(opt));
  }
  return parsed;
}

}  // namespace

bool parse(int argc, char** argv, const CommandInfo& info, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm) {
  po::options_description common("Common options");
  const std::string config_help = "INI file with options (keys at top level or under [" + info.name + "]); the command line wins";
  common.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(), config_help.c_str())
      ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn, error or quiet");
  po::options_description all;
  all.add(options).add(common);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      if (mpi::rank() == 0) {
        std::cout << "Usage: " << info.usage << "\n\n" << info.summary << "\n\n" << all << "\n";
      }
      return false;
    }
    if (vm.count("config")) po::store(parse_ini(vm["config"].as<std::string>(), info.name, all), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    // main() prefixes "esmpipe <command>: " to every error.
    throw Error(str(e.what(), " (see 'esmpipe ", info.name, " --help')"));
  }
  log::set_level(log::parse_level(vm["log-level"].as<std::string>()));
  return true;
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t e = s.find(sep, start);
    if (e == std::string::npos) e = s.size();
    std::string item = trim(s.substr(start, e - start));
    if (!item.empty()) out.push_back(item);
    start = e + 1;
  }
  return out;
}

int default_threads() {
  cpu_set_t set;
  int cores = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  // Ranks on one node share its cores; the launcher says how many there are.
  int local = 1;
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(var)) { local = std::max(1, std::atoi(v)); break; }
  }
  // When binding already gave this rank its own cores, the affinity count is its share.
  int total = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  int share = cores < total ? cores : cores / local;
  return std::max(1, share);
}

}  // namespace esm::cli
