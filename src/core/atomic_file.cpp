#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "core/error.hpp"

namespace esm {

fs::path partial_path(const fs::path& p) { return fs::path(p.string() + ".partial"); }

void check_can_write(const fs::path& p, bool overwrite, const std::string& flag) {
  if (!overwrite && fs::exists(p))
    fail(p.string(), ": output exists; refusing to overwrite it (pass ", flag, " to replace it)");
}

void commit_partial(const fs::path& final_path) {
  fs::path tmp = partial_path(final_path);
  if (std::rename(tmp.c_str(), final_path.c_str()) != 0)
    fail("cannot rename ", tmp.string(), " to ", final_path.string(), ": ", std::strerror(errno));
  fs::path dir = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) { ::fsync(fd); ::close(fd); }
}

AtomicFile::AtomicFile(fs::path final_path, bool overwrite, const std::string& flag)
    : final_(std::move(final_path)), tmp_(partial_path(final_)) {
  check_can_write(final_, overwrite, flag);
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) fail(tmp_.string(), ": cannot create output file: ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  bool ok = static_cast<bool>(out_);
  out_.close();
  if (!ok || out_.fail()) fail(tmp_.string(), ": write failed (disk full or read-only?)");
  commit_partial(final_);
  committed_ = true;
}

void write_file_atomic(const fs::path& path, const std::string& content, bool overwrite) {
  AtomicFile f(path, overwrite);
  f.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  f.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open: ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path.string(), ": read error");
  return ss.str();
}

}  // namespace esm
