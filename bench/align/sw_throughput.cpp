// Smith-Waterman throughput: the scalar reference vs the SIMD score kernel (each level the CPU
// has) on real protein pairs from data/mini-uniref. Prints cell updates per second (GCUPS) and
// the ratio to the reference, and checks that every score agrees; then times the full reference
// traceback against sw_align_scored (evaluate()'s traceback) and checks every alignment agrees.
//
// usage: sw_throughput [PAIRS=2000] [FASTA=data/mini-uniref/uniref90.fasta.gz]
#include <chrono>
#include <cstdio>
#include <string>

#include "align/sw_reference.hpp"
#include "align/sw_simd.hpp"
#include "io/fasta.hpp"

using namespace esm::align;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::string path = argc > 2 ? argv[2] : "data/mini-uniref/uniref90.fasta.gz";
  const auto recs = esm::io::read_all(path);
  if (recs.size() < 2) return std::fprintf(stderr, "need proteins in %s\n", path.c_str()), 1;
  const Scoring& sc = blosum62();
  std::vector<QueryProfile> q;
  std::vector<std::vector<uint8_t>> t;
  double cells = 0;
  for (int k = 0; k < pairs; ++k) {
    q.push_back(QueryProfile::build(recs[(2 * k) % recs.size()].seq, sc));
    t.push_back(encode(recs[(2 * k + 1) % recs.size()].seq));
    cells += double(q.back().len) * t.back().size();
  }
  std::vector<int> ref(pairs);
  auto t0 = Clock::now();
  for (int k = 0; k < pairs; ++k) ref[k] = sw_score_reference(q[k], t[k].data(), int(t[k].size()), sc);
  const double s_ref = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("pairs %d, %.3g cells\n%-8s %8.3f s  %6.2f GCUPS\n", pairs, cells, "scalar", s_ref, cells / s_ref / 1e9);
  int bad = 0;
  for (SimdLevel l : {SimdLevel::Sse41, SimdLevel::Avx2}) {
    if (l > best_simd_level()) continue;
    t0 = Clock::now();
    for (int k = 0; k < pairs; ++k) {
      StripedProfile sp(q[k], sc, l);  // profile build included: once per query in the filter
      bad += sp.score(t[k].data(), int(t[k].size())) != ref[k];
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%-8s %8.3f s  %6.2f GCUPS  %5.1fx the scalar reference\n", simd_level_name(l), s,
                cells / s / 1e9, s_ref / s);
  }
  // Traceback: the full reference (fresh zeroed direction matrix, every row) vs sw_align_scored
  // (what Aligner::evaluate runs: fill stopped at the end cell, buffer reused), same results.
  t0 = Clock::now();
  std::vector<Alignment> full(pairs);
  for (int k = 0; k < pairs; ++k) full[k] = sw_align_reference(q[k], t[k].data(), int(t[k].size()), sc);
  const double s_full = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<uint8_t> dir;
  t0 = Clock::now();
  for (int k = 0; k < pairs; ++k) {
    const Alignment a = sw_align_scored(q[k], t[k].data(), int(t[k].size()), sc, ref[k], dir);
    const Alignment& f = full[k];
    bad += a.score != f.score || a.qbegin != f.qbegin || a.qend != f.qend || a.tbegin != f.tbegin ||
           a.tend != f.tend || a.alnlen != f.alnlen || a.nident != f.nident;
  }
  const double s_fast = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("traceback full   %8.3f s\ntraceback scored %8.3f s  %5.2fx the full traceback\n", s_full,
              s_fast, s_full / s_fast);
  if (bad) std::printf("MISMATCHED SCORES OR ALIGNMENTS: %d\n", bad);
  return bad ? 1 : 0;
}
