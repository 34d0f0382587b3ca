#include "ini.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace esm::jobs {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "value   # why" -> "value". A '#' glued to text (e.g. a URL fragment) stays.
std::string strip_inline_comment(const std::string& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) return trim(v.substr(0, i));
  return v;
}

}  // namespace

const IniEntry* IniSection::find(const std::string& key) const {
  const IniEntry* found = nullptr;
  for (const auto& e : entries)
    if (e.key == key) found = &e;
  return found;
}

std::vector<std::string> IniSection::all(const std::string& key) const {
  std::vector<std::string> out;
  for (const auto& e : entries)
    if (e.key == key) out.push_back(e.value);
  return out;
}

const IniSection* IniFile::find(const std::string& name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

IniFile parse_ini_text(const std::string& text, const std::string& path) {
  IniFile ini;
  ini.path = path;
  size_t pos = 0;
  int lineno = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') fail(path, ":", lineno, ": malformed section header '", t, "'");
      std::string name = trim(t.substr(1, t.size() - 2));
      if (name.empty()) fail(path, ":", lineno, ": empty section name");
      if (ini.find(name)) fail(path, ":", lineno, ": section [", name, "] appears twice");
      ini.sections.push_back({name, lineno, {}});
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos) fail(path, ":", lineno, ": expected 'key = value', found '", t, "'");
    if (ini.sections.empty()) fail(path, ":", lineno, ": '", trim(t.substr(0, eq)), "' is outside any [section]");
    std::string key = trim(t.substr(0, eq));
    if (key.empty()) fail(path, ":", lineno, ": missing key before '='");
    ini.sections.back().entries.push_back({key, strip_inline_comment(trim(t.substr(eq + 1))), lineno});
  }
  return ini;
}

IniFile read_ini(const std::string& path) { return parse_ini_text(read_file(path), path); }

}  // namespace esm::jobs
