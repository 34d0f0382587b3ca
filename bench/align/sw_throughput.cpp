// Smith-Waterman throughput: the scalar reference vs the SIMD score kernel (each level the CPU
// has) on real protein pairs from data/mini-uniref. Prints cell updates per second (GCUPS) and
// the ratio to the reference, and checks that every score agrees; then times the tracebacks on
// the same pairs: the full reference, the scalar sw_align_scored (fill stopped at the end cell)
// and the striped SIMD fill with direction bits (StripedProfile::align_scored, what
// Aligner::evaluate runs) at each level, as cells/s and ratios, checking every alignment agrees;
// last the one-pass striped fill (StripedProfile::align: score, end cell and directions in one
// fill, what clustering runs) against the score pass + scored fill it replaces.
//
// usage: sw_throughput [PAIRS=2000] [FASTA=data/mini-uniref/uniref90.fasta.gz] [MEMBERSHIP]
// Pairs are consecutive records (mostly unrelated proteins, as the filter sees them); with
// MEMBERSHIP (a member<TAB>cluster TSV such as data/mini-uniref/membership.tsv.gz) they are
// instead two members of one cluster: similar proteins, as clustering aligns them, where
// vertical gaps run long and the traceback fill's F computation matters.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>

#include "align/sw_reference.hpp"
#include "align/sw_simd.hpp"
#include "io/byte_source.hpp"
#include "io/fasta.hpp"

using namespace esm::align;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int pairs = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::string path = argc > 2 ? argv[2] : "data/mini-uniref/uniref90.fasta.gz";
  const auto recs = esm::io::read_all(path);
  if (recs.size() < 2) return std::fprintf(stderr, "need proteins in %s\n", path.c_str()), 1;
  // (query, target) record indices.
  std::vector<std::pair<size_t, size_t>> picks;
  if (argc > 3) {
    std::unordered_map<std::string, size_t> index;
    for (size_t r = 0; r < recs.size(); ++r) index[recs[r].id] = r;
    std::string text;
    char buf[1 << 16];
    auto src = esm::io::open_compressed(argv[3], esm::io::detect_compression(argv[3]), nullptr, 0);
    for (size_t n; (n = src->read(buf, sizeof buf)) > 0;) text.append(buf, n);
    std::map<std::string, std::vector<size_t>> members;  // ordered: the same pairs every run
    std::istringstream lines(text);
    for (std::string member, cluster; std::getline(lines, member, '\t') && std::getline(lines, cluster);)
      if (auto it = index.find(member); it != index.end()) members[cluster].push_back(it->second);
    for (const auto& [cluster, m] : members)
      for (size_t k = 1; k < m.size() && picks.size() < size_t(pairs); ++k) picks.emplace_back(m[0], m[k]);
    if (picks.empty()) return std::fprintf(stderr, "no two members of one cluster in %s\n", argv[3]), 1;
  } else {
    for (int k = 0; k < pairs; ++k) picks.emplace_back((2 * k) % recs.size(), (2 * k + 1) % recs.size());
  }
  pairs = int(picks.size());
  const Scoring& sc = blosum62();
  std::vector<QueryProfile> q;
  std::vector<std::vector<uint8_t>> t;
  double cells = 0;
  for (const auto& [a, b] : picks) {
    q.push_back(QueryProfile::build(recs[a].seq, sc));
    t.push_back(encode(recs[b].seq));
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
  // Traceback: the full reference (fresh zeroed direction matrix, every row), sw_align_scored
  // (scalar fill stopped at the end cell, buffer reused) and the striped fill; same results.
  // GCUPS here = the pairs' qlen x tlen cells per second (the scalar scored fill skips the rows
  // below the end cell, the striped fill does all of them).
  t0 = Clock::now();
  std::vector<Alignment> full(pairs);
  for (int k = 0; k < pairs; ++k) full[k] = sw_align_reference(q[k], t[k].data(), int(t[k].size()), sc);
  const double s_full = std::chrono::duration<double>(Clock::now() - t0).count();
  auto same = [](const Alignment& a, const Alignment& f) {
    return a.score == f.score && a.qbegin == f.qbegin && a.qend == f.qend && a.tbegin == f.tbegin &&
           a.tend == f.tend && a.alnlen == f.alnlen && a.nident == f.nident && a.gap_opens == f.gap_opens;
  };
  TraceBuffer dir;
  t0 = Clock::now();
  for (int k = 0; k < pairs; ++k)
    bad += !same(sw_align_scored(q[k], t[k].data(), int(t[k].size()), sc, ref[k], dir), full[k]);
  const double s_scored = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("traceback full          %8.3f s  %6.3f GCUPS\n", s_full, cells / s_full / 1e9);
  std::printf("traceback scalar scored %8.3f s  %6.3f GCUPS  %5.2fx the full traceback\n", s_scored,
              cells / s_scored / 1e9, s_full / s_scored);
  for (SimdLevel l : {SimdLevel::Sse41, SimdLevel::Avx2}) {
    if (l > best_simd_level()) continue;
    // Profiles built outside the timed loop: evaluate() has them from the score already.
    std::vector<std::unique_ptr<StripedProfile>> sp;
    for (int k = 0; k < pairs; ++k) sp.push_back(std::make_unique<StripedProfile>(q[k], sc, l));
    t0 = Clock::now();
    for (int k = 0; k < pairs; ++k)
      bad += !same(sp[k]->align_scored(t[k].data(), int(t[k].size()), ref[k], dir), full[k]);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("traceback %-6s striped %8.3f s  %6.3f GCUPS  %5.2fx the scalar scored traceback\n",
                simd_level_name(l), s, cells / s / 1e9, s_scored / s);
    // Two passes as Aligner::evaluate runs them (score, then the fill given it) vs one.
    t0 = Clock::now();
    for (int k = 0; k < pairs; ++k) {
      const int score = sp[k]->score(t[k].data(), int(t[k].size()));
      bad += !same(sp[k]->align_scored(t[k].data(), int(t[k].size()), score, dir), full[k]);
    }
    const double s_two = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    for (int k = 0; k < pairs; ++k) bad += !same(sp[k]->align(t[k].data(), int(t[k].size()), dir), full[k]);
    const double s_one = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%-6s score + striped traceback %8.3f s  one pass %8.3f s  %5.2fx\n", simd_level_name(l), s_two,
                s_one, s_two / s_one);
  }
  if (bad) std::printf("MISMATCHED SCORES OR ALIGNMENTS: %d\n", bad);
  return bad ? 1 : 0;
}
