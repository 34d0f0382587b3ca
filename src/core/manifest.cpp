#include "core/manifest.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"

#ifndef ESMPIPE_VERSION
#define ESMPIPE_VERSION "dev"
#endif

namespace esm {
namespace {
std::string g_command_line;
}

const std::string& command_line() { return g_command_line; }
void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) g_command_line += ' ';
    g_command_line += argv[i];
  }
}
const char* tool_version() { return ESMPIPE_VERSION; }

Manifest::Manifest() {
  root_["tool"] = "esmpipe";
  root_["tool_version"] = tool_version();
  root_["command_line"] = g_command_line;
}

Manifest Manifest::load(const std::filesystem::path& path) {
  Manifest m;
  m.root_ = json::parse(read_file(path), path.string());
  if (!m.root_.is_object()) fail(path.string(), ": manifest is not a JSON object");
  return m;
}

bool Manifest::exists(const std::filesystem::path& path) { return std::filesystem::exists(path); }

void Manifest::save(const std::filesystem::path& path) const {
  write_file_atomic(path, root_.dump(2) + "\n", /*overwrite=*/true);
}

json::Value Manifest::file_entry(const std::filesystem::path& path, bool with_sha256) {
  json::Value v;
  v["path"] = path.string();
  v["size"] = static_cast<int64_t>(std::filesystem::file_size(path));
  if (with_sha256) v["sha256"] = sha256_file(path);
  return v;
}

}  // namespace esm
