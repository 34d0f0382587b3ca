// The outputs of `esmpipe cluster`, written by all ranks into one file each:
//   clusters.tsv  `rep<TAB>member` per sequence, as MMseqs2's _cluster.tsv. Order (ours, fixed):
//                 clusters by their representative's input position; within a cluster the
//                 representative's own line first, then its members in input order.
//   reps.fasta    the representatives in input order, `>ID DESCRIPTION` then the sequence on one
//                 line.
// Each rank formats the lines of the representatives it holds; io::write_ordered puts them at
// the offset the lower ranks' byte counts give (MPI-IO), into "<final>.partial", renamed when
// complete.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/partition.hpp"
#include "io/fasta.hpp"
#include "io/ordered_writer.hpp"

namespace esm::cluster {

// Collective: the whole file is the concatenation of every rank's `mine`, in rank order.
using io::write_ordered;

// Collective. records: this rank's records; rep_of: representative global index per record.
// Returns the number of clusters (whole job).
uint64_t write_cluster_tsv(const std::filesystem::path& path, const std::vector<io::FastaRecord>& records,
                           const Partition& part, const std::vector<uint64_t>& rep_of);
void write_representatives(const std::filesystem::path& path, const std::vector<io::FastaRecord>& records,
                           const Partition& part, const std::vector<uint64_t>& rep_of);

}  // namespace esm::cluster
