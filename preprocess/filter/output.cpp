#include "filter/output.hpp"

#include <cstdio>

namespace esm::filter {

std::string removed_row(const align::Hit& h) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "\t%.4f\t%.4f\t%.4f\t%.3e\n", h.fident, h.qcov(), h.tcov(), h.evalue);
  return h.query + '\t' + h.target + buf;
}

std::string blast_tab_row(const align::Hit& h) {
  char buf[192];
  std::snprintf(buf, sizeof buf, "\t%.3f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.3e\t%.1f\n", h.fident, h.alnlen, h.qstart,
                h.qend, h.qlen, h.tstart, h.tend, h.tlen, h.evalue, h.bits);
  return h.query + '\t' + h.target + buf;
}

void append_rows(const std::vector<align::Hit>& hits, std::string& removed, std::string* all) {
  for (size_t k = 0; k < hits.size(); ++k) {
    if (k == 0 || hits[k].query != hits[k - 1].query) removed += removed_row(hits[k]);
    if (all) *all += blast_tab_row(hits[k]);
  }
}

}  // namespace esm::filter
