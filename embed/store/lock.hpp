// "<store>.lock": one job writes a store at a time. Created with O_EXCL by rank 0; holds
// "host pid start-time". A lock whose process is gone (same host, pid not running) is stale and
// taken over with a warning; a lock from another host is never guessed at: the error says how
// to remove it if that job is really gone.
#pragma once
#include <string>

namespace esm::store {

class StoreLock {
 public:
  explicit StoreLock(const std::string& store_path);  // throws esm::Error if held by a live job
  ~StoreLock();                                        // removes the lock file
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace esm::store
