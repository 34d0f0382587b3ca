// Candidate pairs with the residues of their distinct sequences, as one byte string for another
// rank of the same job (the balancer's moves, work handed over between ranks).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/kmer_groups.hpp"
#include "cluster/residue_table.hpp"
#include "cluster/verify.hpp"

namespace esm::cluster {

std::string pack_pairs(const std::vector<Pair>& pairs, const SequenceLookup& residues);

// Appends the message's pairs to `pairs` and its residues to `residues` (views into `msg`, which
// must outlive them). Returns how many pairs it held.
size_t unpack_pairs(const std::string& msg, std::vector<Pair>& pairs, ResidueTable& residues);

}  // namespace esm::cluster
