// manifest.json: what a stage read, with which parameters, what it wrote, and how long it took.
// Every stage writes one through this class so restart logic and provenance look the same.
#pragma once
#include <filesystem>
#include <string>

#include "core/json.hpp"

namespace esm {

// Set by main(): the whole command line and the tool version, for provenance.
const std::string& command_line();
void set_command_line(int argc, char** argv);
const char* tool_version();

class Manifest {
 public:
  Manifest();  // new: format, tool_version, command_line filled
  static Manifest load(const std::filesystem::path& path);  // throws if unreadable
  static bool exists(const std::filesystem::path& path);
  json::Value& root() { return root_; }
  const json::Value& root() const { return root_; }
  json::Value& operator[](const std::string& k) { return root_[k]; }
  // Written atomically (temporary + rename); replaces an older manifest.
  void save(const std::filesystem::path& path) const;

  // {path, size, sha256} of an existing file.
  static json::Value file_entry(const std::filesystem::path& path, bool with_sha256 = true);

 private:
  json::Value root_;
};

}  // namespace esm
