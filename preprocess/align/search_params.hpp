// Acceptance rules of one alignment, as MMseqs2 defines them (--min-seq-id, -c, --cov-mode,
// --seq-id-mode, -e), and the BLAST-tab style hit record the identity engine reports.
#pragma once
#include <string>

namespace esm::align {

struct SearchParams {
  double min_seq_id = 0.5;
  double coverage = 0.8;
  double evalue = 1e-3;
  int cov_mode = 0;     // 0 both, 1 target, 2 query, 3 tlen>=c*qlen, 4 qlen>=c*tlen, 5 shorter>=c*longer
  int seq_id_mode = 0;  // identical / 0 alignment columns, 1 shorter length, 2 longer length
};

// One alignment; coordinates are 1-based and inclusive (BLAST tab convention).
struct Hit {
  std::string query, target;
  double fident = 0;
  int alnlen = 0, qstart = 0, qend = 0, qlen = 0, tstart = 0, tend = 0, tlen = 0;
  double evalue = 0, bits = 0;
  int nident = 0, raw_score = 0;
  double qcov() const { return qlen ? double(qend - qstart + 1) / qlen : 0.0; }
  double tcov() const { return tlen ? double(tend - tstart + 1) / tlen : 0.0; }
};

// Throws esm::Error naming the option when a value is out of range.
void validate(const SearchParams& p);

// Whether a pair of these lengths can pass the coverage rule at all (MMseqs2 checks this before
// aligning). Computed in float, as MMseqs2 does, so boundary cases decide the same way.
bool can_be_covered(const SearchParams& p, int qlen, int tlen);
bool has_coverage(const SearchParams& p, int qlen, int tlen, int qspan, int tspan);
float sequence_identity(int seq_id_mode, int nident, int alnlen, int qlen, int tlen);

// The identical residue pairs any accepted alignment of these lengths must contain, from the
// identity and coverage rules alone (0 when the rules give no bound: cov-mode 3..5 with
// seq-id-mode 0, or zero coverage/identity). seq-id-mode 0: min_seq_id x the columns the
// coverage rule forces (cov-mode 0: c x longer, 1: c x tlen, 2: c x qlen); modes 1/2:
// min_seq_id x shorter/longer length. The identity gates (filter, clustering) scale with it.
double required_identities(const SearchParams& p, int qlen, int tlen);

// Below this --min-seq-id the identity gates are off: at low identity mismatches eat the
// ungapped score (the lowest true filter hit fell to 0.42 per required identity at 0.3).
inline constexpr double kIdentityGateMinSeqId = 0.4;

// Fills fident and decides: E-value, identity and coverage rules together.
bool accept(const SearchParams& p, Hit& hit);

}  // namespace esm::align
