// Text rows of the filter's outputs: removed.tsv (preprocess-outputs.md) and the BLAST-tab
// --all-hits file. Fixed formats so files are byte-identical for any rank/thread count.
#pragma once
#include <string>
#include <vector>

#include "align/search_params.hpp"

namespace esm::filter {

inline constexpr const char* kRemovedHeader = "train_id\tval_id\tidentity\tqcov\ttcov\tevalue\n";

// One removed.tsv row: train_id val_id identity qcov tcov evalue.
std::string removed_row(const align::Hit& h);
// One --all-hits row: query target fident alnlen qstart qend qlen tstart tend tlen evalue bits.
std::string blast_tab_row(const align::Hit& h);

// hits: query order, a query's hits in target order (IdentityFilter::search). The first hit of
// each query goes to `removed`; every hit to `all` when given.
void append_rows(const std::vector<align::Hit>& hits, std::string& removed, std::string* all);

}  // namespace esm::filter
