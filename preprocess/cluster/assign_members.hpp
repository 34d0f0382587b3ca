// UniRef90 -> UniRef50 membership made by alignment, for `esmpipe preprocess` without
// --membership (and any "attach these sequences to those representatives" job).
//
// Rule (UniRef's): a member joins the representative it matches best with >= 50% identity and
// >= 80% coverage of the member (min_seq_id 0.5, coverage 0.8, cov_mode 1; the representative
// is the alignment's query, the member its target). Best = highest identity under seq_id_mode;
// ties go to the lowest representative index. A member with no accepted representative gets
// none (the caller lists it in orphans.tsv).
//
// Candidates come from the clustering's k-mer machinery: representatives and members keep
// their lowest-hash k-mers, meet at the k-mer's owner rank, and each member is paired with the
// longest representatives of every group it is in; all its candidates are aligned. The result
// depends only on the inputs and parameters, never on the rank or thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "align/search_params.hpp"
#include "cluster/kmer_select.hpp"
#include "io/fasta.hpp"

namespace esm::cluster {

struct Assignment {
  int64_t rep = -1;     // global index of the representative (in the representatives' input order), -1: none
  double identity = 0;  // of the chosen pair
};

// Candidates are searched in passes: the first with all members, each later one only with the
// members no earlier pass placed, with shorter and more k-mers (more sensitive, more pairs per
// member, but few members are left by then).
struct AssignOptions {
  std::vector<KmerParams> passes{{10, 40}, {8, 80}, {6, 150}};
  int max_reps_per_group = 8;
};

// The rule above as default parameters.
inline align::SearchParams uniref_membership_params() { return align::SearchParams{0.5, 0.8, 1e-3, 1, 0}; }

// Collective (all ranks of esm::mpi::comm()). reps: this rank's contiguous run of the
// representatives (UniRef50), ranks in order, so the global index of reps[i] is the exscan of
// the counts plus i (as io::ShardReader hands them out); members: this rank's contiguous run of
// the UniRef90 records, likewise. Returns one Assignment per local member, in order. E-values
// are computed against the members' total residues (the set that is being clustered).
std::vector<Assignment> assign_to_representatives(const std::vector<io::FastaRecord>& reps,
                                                  const std::vector<io::FastaRecord>& members,
                                                  const align::SearchParams& params, int threads,
                                                  const AssignOptions& options = {});
// The same on plain residue strings (callers that keep sequences elsewhere).
std::vector<Assignment> assign_to_representatives(const std::vector<std::string_view>& reps,
                                                  const std::vector<std::string_view>& members,
                                                  const align::SearchParams& params, int threads,
                                                  const AssignOptions& options = {});

// One line for the manifest saying how membership was made, with every parameter in it.
std::string membership_method(const align::SearchParams& params, const AssignOptions& options = {});

}  // namespace esm::cluster
