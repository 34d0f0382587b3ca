// The duplicate-ID check of `esmpipe embed` without gathering every ID on every rank: each ID
// goes (alltoall) to the rank that owns its hash, which looks for repeats among the IDs it owns.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace esm::store {

// Collective. ids: this rank's IDs in input order; first: global index of ids[0] (ranks hold
// contiguous runs). Throws the same esm::Error on every rank when an ID occurs twice, naming
// the earliest repeat in input order and the record it repeats (1-based record numbers), as a
// serial scan of the whole input would.
void refuse_duplicate_ids(const std::vector<std::string>& ids, uint64_t first, const std::string& path, MPI_Comm comm);

}  // namespace esm::store
