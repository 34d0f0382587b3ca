// Ground truth for the filter tests: aligns each named query against EVERY target with the
// exact scalar reference aligner (no seeds, no SIMD) under the same rules, and prints each
// accepted pair as a BLAST-tab row (the --all-hits columns).
//
// usage: exact_search QUERY.fasta TARGET.fasta IDS.txt [min_seq_id coverage cov_mode seq_id_mode evalue]
//   IDS.txt: one query ID per line ("-" = all queries)
#include <fstream>
#include <iostream>
#include <set>

#include "align/aligner.hpp"
#include "filter/output.hpp"
#include "io/fasta.hpp"

int main(int argc, char** argv) {
  using namespace esm;
  if (argc < 4) {
    std::cerr << "usage: exact_search QUERY.fasta TARGET.fasta IDS.txt|- [min_seq_id coverage cov_mode seq_id_mode evalue]\n";
    return 2;
  }
  try {
    align::SearchParams p;
    if (argc >= 9) {
      p.min_seq_id = std::stod(argv[4]);
      p.coverage = std::stod(argv[5]);
      p.cov_mode = std::stoi(argv[6]);
      p.seq_id_mode = std::stoi(argv[7]);
      p.evalue = std::stod(argv[8]);
    }
    const auto queries = io::read_all(argv[1]);
    const auto targets = io::read_all(argv[2]);
    std::set<std::string> ids;
    const bool all = std::string(argv[3]) == "-";
    if (!all) {
      std::ifstream f(argv[3]);
      for (std::string line; std::getline(f, line);)
        if (!line.empty()) ids.insert(line);
    }
    uint64_t db = 0;
    std::vector<std::vector<uint8_t>> tcodes;
    for (const auto& t : targets) db += t.seq.size(), tcodes.push_back(align::encode(t.seq));
    align::Aligner al(p, db, align::blosum62(), align::SimdLevel::Scalar);
    for (const auto& q : queries) {
      if (!all && !ids.count(q.id)) continue;
      al.set_query(q.seq);
      for (size_t t = 0; t < targets.size(); ++t) {
        align::Hit h;
        if (!al.evaluate(tcodes[t].data(), int(tcodes[t].size()), h, /*use_fast=*/false)) continue;
        h.query = q.id;
        h.target = targets[t].id;
        std::cout << filter::blast_tab_row(h);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "exact_search: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
