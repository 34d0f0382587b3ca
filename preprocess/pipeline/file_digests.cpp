#include "pipeline/file_digests.hpp"

#include "core/error.hpp"
#include "core/mpi_env.hpp"
#include "core/sha256.hpp"

namespace esm::prep {

std::vector<std::string> sha256_files_collective(const std::vector<std::string>& paths) {
  const int P = mpi::size(), rank = mpi::rank();
  // "<index> <hex>\n" per file this rank hashed.
  std::string mine;
  for (size_t i = 0; i < paths.size(); ++i)
    if (static_cast<int>(i % size_t(P)) == rank) mine += std::to_string(i) + " " + sha256_file(paths[i]) + "\n";
  std::vector<std::string> sha(paths.size());
  for (const auto& block : mpi::allgather_bytes(mine)) {
    size_t pos = 0;
    while (pos < block.size()) {
      const size_t nl = block.find('\n', pos), sp = block.find(' ', pos);
      sha[std::stoul(block.substr(pos, sp - pos))] = block.substr(sp + 1, nl - sp - 1);
      pos = nl + 1;
    }
  }
  return sha;
}

}  // namespace esm::prep
