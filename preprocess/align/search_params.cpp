#include "align/search_params.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace esm::align {

void validate(const SearchParams& p) {
  if (!(p.min_seq_id >= 0 && p.min_seq_id <= 1)) fail("--min-seq-id must be in [0, 1], got ", p.min_seq_id);
  if (!(p.coverage >= 0 && p.coverage <= 1)) fail("--coverage must be in [0, 1], got ", p.coverage);
  if (!(p.evalue > 0)) fail("-e/--evalue must be > 0, got ", p.evalue);
  if (p.cov_mode < 0 || p.cov_mode > 5) fail("--cov-mode must be 0..5, got ", p.cov_mode);
  if (p.seq_id_mode < 0 || p.seq_id_mode > 2) fail("--seq-id-mode must be 0..2, got ", p.seq_id_mode);
}

bool can_be_covered(const SearchParams& p, int qlen, int tlen) {
  const float c = float(p.coverage), q = float(qlen), t = float(tlen);
  switch (p.cov_mode) {
    case 0: return q / t >= c && t / q >= c;
    case 1: return q / t >= c;
    case 2: return t / q >= c;
    case 3: return t / q >= c && t / q <= 1.0f;
    case 4: return q / t >= c && q / t <= 1.0f;
    case 5: return std::min(q, t) / std::max(q, t) >= c;
  }
  return true;
}

bool has_coverage(const SearchParams& p, int qlen, int tlen, int qspan, int tspan) {
  const float c = float(p.coverage);
  const float qcov = float(qspan) / float(qlen), tcov = float(tspan) / float(tlen);
  switch (p.cov_mode) {
    case 0: return qcov >= c && tcov >= c;
    case 1: return tcov >= c;
    case 2: return qcov >= c;
    default: return can_be_covered(p, qlen, tlen);  // 3..5 are length rules only
  }
}

float sequence_identity(int mode, int nident, int alnlen, int qlen, int tlen) {
  switch (mode) {
    case 1: return float(nident) / float(std::min(qlen, tlen));
    case 2: return float(nident) / float(std::max(qlen, tlen));
    default: return alnlen ? float(nident) / float(alnlen) : 0.0f;
  }
}

double required_identities(const SearchParams& p, int qlen, int tlen) {
  const double shorter = std::min(qlen, tlen), longer = std::max(qlen, tlen);
  switch (p.seq_id_mode) {
    case 1: return p.min_seq_id * shorter;
    case 2: return p.min_seq_id * longer;
  }
  // seq-id-mode 0: identity is over alignment columns, which span at least the covered part.
  switch (p.cov_mode) {
    case 0: return p.min_seq_id * p.coverage * longer;
    case 1: return p.min_seq_id * p.coverage * tlen;
    case 2: return p.min_seq_id * p.coverage * qlen;
  }
  return 0;  // cov-modes 3..5 constrain lengths only: an alignment may be short
}

bool accept(const SearchParams& p, Hit& h) {
  const float id = sequence_identity(p.seq_id_mode, h.nident, h.alnlen, h.qlen, h.tlen);
  h.fident = id;
  return h.evalue <= p.evalue && id >= float(p.min_seq_id) &&
         has_coverage(p, h.qlen, h.tlen, h.qend - h.qstart + 1, h.tend - h.tstart + 1);
}

}  // namespace esm::align
