// Outputs appear under their final name only when complete: write to "<final>.partial",
// then rename. A failed or killed run leaves at most a .partial file, never a half file
// under the final name.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

namespace esm {

namespace fs = std::filesystem;

// The deterministic temporary name, the same on every rank (MPI-IO writes it collectively).
fs::path partial_path(const fs::path& final_path);

// Throws unless `overwrite` or the final path does not exist. Names the flag that allows it.
void check_can_write(const fs::path& final_path, bool overwrite, const std::string& flag = "--overwrite");

// rename(partial, final), fsync of the directory; throws with both names on failure.
void commit_partial(const fs::path& final_path);

// One process writing one file.
class AtomicFile {
 public:
  AtomicFile(fs::path final_path, bool overwrite, const std::string& flag = "--overwrite");
  ~AtomicFile();  // removes the partial file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  std::ofstream& stream() { return out_; }
  const fs::path& temp_path() const { return tmp_; }
  const fs::path& final_path() const { return final_; }
  void commit();  // flush, close, check the stream, rename

 private:
  fs::path final_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void write_file_atomic(const fs::path& path, const std::string& content, bool overwrite);
std::string read_file(const fs::path& path);  // whole file; throws naming the path

}  // namespace esm
