#include "store/disk_space.hpp"

#include <sys/resource.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <system_error>

#include "core/error.hpp"
#include "core/progress.hpp"

namespace esm::store {

std::string out_of_space_note(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  rlimit lim{};
  if (!ec && getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && size + (1 << 20) >= lim.rlim_cur)
    return str("file too large: ", path, " (", human_bytes(double(size)), ") has reached the file size limit (ulimit -f) of ",
               human_bytes(double(lim.rlim_cur)));
  fs::path dir = fs::absolute(path, ec).parent_path();
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) == 0) {
    const uint64_t free_bytes = uint64_t(st.f_bavail) * st.f_frsize;
    // A write of a batch or a round needs megabytes; less than that free is the likely cause.
    if (free_bytes < (uint64_t(16) << 20))
      return str("no space left on the file system of ", dir.string(), " (", human_bytes(double(free_bytes)), " free)");
  }
  return "";
}

}  // namespace esm::store
