// The job file's INI dialect: `[section]` headers, `key = value` lines, `#` or `;` comment lines,
// inline comments after whitespace (`value   # why`). A key may repeat (extra `sbatch` lines);
// every value remembers its line so errors name it. Stage options and resources share one
// section, which is why this is not core/options.hpp's parser (that one maps keys to a fixed
// option table of one subcommand).
#pragma once
#include <string>
#include <vector>

namespace esm::jobs {

struct IniEntry {
  std::string key, value;
  int line = 0;
};

struct IniSection {
  std::string name;
  int line = 0;
  std::vector<IniEntry> entries;  // file order
  const IniEntry* find(const std::string& key) const;  // the last one with this key
  std::vector<std::string> all(const std::string& key) const;
};

struct IniFile {
  std::string path;
  std::vector<IniSection> sections;  // file order; no section repeats
  const IniSection* find(const std::string& name) const;
};

// Throws esm::Error naming path:line for malformed lines, keys outside a section and repeated
// section headers.
IniFile parse_ini_text(const std::string& text, const std::string& path);
IniFile read_ini(const std::string& path);

}  // namespace esm::jobs
