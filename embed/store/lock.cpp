#include "store/lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"

namespace esm::store {
namespace {

std::string hostname() {
  char buf[256] = "";
  gethostname(buf, sizeof buf - 1);
  return buf;
}

bool try_create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    fail("cannot create lock file ", path, " (the output directory must exist and be writable): ", std::strerror(errno));
  }
  std::string text = str(hostname(), " ", getpid(), " ", std::time(nullptr), "\n");
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = (::fsync(fd) == 0) && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    fail("cannot write lock file ", path, ": ", std::strerror(errno));
  }
  return true;
}

// A process counts as running unless kill(pid, 0) says it is gone or /proc shows a zombie
// (a killed rank is a zombie until its launcher reaps it). Asked for a few seconds, because a
// job that was just killed may still be dying.
bool running(long pid) {
  for (int i = 0; i < 10; ++i) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    std::ifstream stat(str("/proc/", pid, "/stat"));
    std::string line;
    if (std::getline(stat, line)) {
      size_t paren = line.rfind(')');
      char state = paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
      if (state == 'Z' || state == 'X') return false;
    }
    ::usleep(100000);
  }
  return true;
}

}  // namespace

StoreLock::StoreLock(const std::string& store_path) : path_(store_path + ".lock") {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (try_create(path_)) return;
    std::ifstream in(path_);
    std::string host;
    long pid = 0, started = 0;
    in >> host >> pid >> started;
    if (!in && host.empty()) {
      // Being written right now by its creator, or left empty by a crash between create and write.
      ::sleep(1);
      std::ifstream again(path_);
      again >> host >> pid >> started;
      if (host.empty()) {
        log::warn("removing empty lock file ", path_);
        ::unlink(path_.c_str());
        continue;
      }
    }
    bool alive = host != hostname() || pid <= 0 || running(pid);
    if (alive)
      fail(store_path, " is locked by another job (", path_, ": host ", host, ", pid ", pid,
           "); if that job is gone, delete ", path_, " and rerun");
    log::warn("taking over stale lock ", path_, " (pid ", pid, " on ", host, " is not running)");
    ::unlink(path_.c_str());
  }
  fail("cannot take lock ", path_, ": another job keeps creating it");
}

StoreLock::~StoreLock() { ::unlink(path_.c_str()); }

}  // namespace esm::store
