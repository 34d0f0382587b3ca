// esm_cluster_pairs: checks (representative, member) pairs with the exact scalar aligner
// (align::Aligner::evaluate with use_fast = false) under MMseqs2's rules. Used by the tests and
// the benchmark to count violations in clusters.tsv and to explain membership disagreements.
//
//   esm_cluster_pairs [--min-seq-id X] [-c X] [--cov-mode N] [--seq-id-mode N] [-e X]
//                     [--db-residues N] [--sample N] [--explain] REPS.fasta MEMBERS.fasta PAIRS.tsv
// PAIRS.tsv: `rep<TAB>member` lines (a header line whose first field is not a known ID is
// skipped; `--swap` reads `member<TAB>rep`). Pairs with rep == member are skipped. --sample N
// checks every k-th pair so that about N are checked (deterministic). E-values use
// --db-residues, default the total residues of MEMBERS.fasta (what esmpipe cluster uses).
// Prints one summary line `checked N violations V`; with --explain one line per pair:
// rep, member, accepted, fident, tcov, qcov, evalue. Exit 1 when there are violations
// (unless --explain).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "align/aligner.hpp"
#include "io/fasta.hpp"

int main(int argc, char** argv) {
  esm::align::SearchParams p{0.5, 0.8, 1e-3, 1, 0};
  uint64_t db = 0, sample = 0;
  bool explain = false, swap = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::cerr << a << ": missing value\n"; std::exit(2); }
      return argv[++i];
    };
    if (a == "--min-seq-id") p.min_seq_id = std::stod(next());
    else if (a == "-c") p.coverage = std::stod(next());
    else if (a == "--cov-mode") p.cov_mode = std::stoi(next());
    else if (a == "--seq-id-mode") p.seq_id_mode = std::stoi(next());
    else if (a == "-e") p.evalue = std::stod(next());
    else if (a == "--db-residues") db = std::stoull(next());
    else if (a == "--sample") sample = std::stoull(next());
    else if (a == "--explain") explain = true;
    else if (a == "--swap") swap = true;
    else files.push_back(a);
  }
  if (files.size() != 3) {
    std::cerr << "usage: esm_cluster_pairs [options] REPS.fasta MEMBERS.fasta PAIRS.tsv\n";
    return 2;
  }
  try {
    auto reps = esm::io::read_all(files[0]);
    auto members = files[1] == files[0] ? reps : esm::io::read_all(files[1]);
    std::unordered_map<std::string, const esm::io::FastaRecord*> rep_by_id, member_by_id;
    for (const auto& r : reps) rep_by_id[r.id] = &r;
    uint64_t total = 0;
    for (const auto& m : members) member_by_id[m.id] = &m, total += m.seq.size();
    if (!db) db = total;
    std::ifstream in(files[2]);
    if (!in) { std::cerr << files[2] << ": cannot open\n"; return 2; }
    std::vector<std::pair<const esm::io::FastaRecord*, const esm::io::FastaRecord*>> pairs;
    std::string line;
    uint64_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      auto tab = line.find('\t');
      if (tab == std::string::npos) { std::cerr << files[2] << ":" << lineno << ": no TAB\n"; return 2; }
      std::string a = line.substr(0, tab), b = line.substr(tab + 1);
      b = b.substr(0, b.find('\t'));
      if (swap) std::swap(a, b);
      auto r = rep_by_id.find(a);
      auto m = member_by_id.find(b);
      if (r == rep_by_id.end() || m == member_by_id.end()) {
        if (lineno == 1) continue;  // header
        std::cerr << files[2] << ":" << lineno << ": unknown ID in '" << line << "'\n";
        return 2;
      }
      if (a == b) continue;
      pairs.push_back({r->second, m->second});
    }
    uint64_t step = sample && pairs.size() > sample ? (pairs.size() + sample - 1) / sample : 1;
    esm::align::Aligner al(p, db);
    uint64_t checked = 0, bad = 0;
    std::string loaded;
    for (size_t i = 0; i < pairs.size(); i += step) {
      const auto& [r, m] = pairs[i];
      if (loaded != r->id) al.set_query(r->seq), loaded = r->id;
      auto codes = esm::align::encode(m->seq);
      esm::align::Hit hit;
      bool ok = al.evaluate(codes.data(), int(codes.size()), hit, /*use_fast=*/false);
      ++checked;
      bad += !ok;
      if (explain)
        std::printf("%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.3g\n", r->id.c_str(), m->id.c_str(), int(ok), hit.fident,
                    hit.tcov(), hit.qcov(), hit.evalue);
    }
    std::printf("checked %llu violations %llu\n", (unsigned long long)checked, (unsigned long long)bad);
    return bad && !explain ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "esm_cluster_pairs: " << e.what() << "\n";
    return 1;
  }
}
