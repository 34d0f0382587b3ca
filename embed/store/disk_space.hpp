// Why a write to the store may have failed, in words: HDF5's error stack for MPI-IO writes names
// no errno, so after a failed write we look at the two usual causes ourselves.
#pragma once
#include <string>

namespace esm::store {

// "" when neither applies; otherwise e.g. "no space left on the file system of X (12 KiB free)"
// or "X has reached the file size limit (ulimit -f) of 600 KiB".
std::string out_of_space_note(const std::string& path);

}  // namespace esm::store
