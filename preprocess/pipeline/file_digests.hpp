// SHA-256 fingerprints of a list of files (inputs, outputs) for the manifest, hashed in parallel:
// file i by rank i mod P, so big inputs are read once and by different ranks at the same time.
#pragma once
#include <string>
#include <vector>

namespace esm::prep {

// Collective over esm::mpi::comm(); every rank gets every digest (hex), in the order of paths.
std::vector<std::string> sha256_files_collective(const std::vector<std::string>& paths);

}  // namespace esm::prep
