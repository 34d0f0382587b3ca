#include "align/aligner.hpp"

namespace esm::align {

Aligner::Aligner(SearchParams params, uint64_t db_residues, const Scoring& scoring, SimdLevel level)
    : params_(params), db_residues_(db_residues), scoring_(&scoring), level_(level) {
  validate(params_);
}

void Aligner::set_query(std::string_view residues) { set_query_codes(encode(residues)); }

void Aligner::set_query_codes(std::vector<uint8_t> codes) {
  query_ = QueryProfile::build_codes(std::move(codes), *scoring_);
  striped_ = std::make_unique<StripedProfile>(query_, *scoring_, level_);
  min_score_ = stats_.min_score(params_.evalue, query_.len, db_residues_);
}

Hit make_hit(const Alignment& a, int qlen, int tlen, uint64_t db_residues, int seq_id_mode) {
  Statistics st;
  Hit h;
  h.qlen = qlen, h.tlen = tlen;
  h.raw_score = a.score;
  h.bits = st.bit_score(a.score);
  h.evalue = st.evalue(a.score, qlen, db_residues);
  h.alnlen = a.alnlen, h.nident = a.nident;
  h.qstart = a.qbegin + 1, h.qend = a.qend + 1, h.tstart = a.tbegin + 1, h.tend = a.tend + 1;
  h.fident = sequence_identity(seq_id_mode, a.nident, a.alnlen, qlen, tlen);
  return h;
}

bool Aligner::evaluate(const uint8_t* t, int tlen, Hit& hit, bool use_fast) const {
  if (query_.len == 0 || tlen == 0) return false;
  if (!can_be_covered(params_, query_.len, tlen)) return false;
  const int s = use_fast ? striped_->score(t, tlen) : sw_score_reference(query_, t, tlen, *scoring_);
  if (s < min_score_) return false;
  const Alignment a = use_fast ? align_scored(t, tlen, s) : sw_align_reference(query_, t, tlen, *scoring_);
  hit = make_hit(a, query_.len, tlen, db_residues_, params_.seq_id_mode);
  return accept(params_, hit);
}

bool Aligner::evaluate_one_pass(const uint8_t* t, int tlen, Hit& hit) const {
  if (query_.len == 0 || tlen == 0) return false;
  if (!can_be_covered(params_, query_.len, tlen)) return false;
  const Alignment a = align_one_pass(t, tlen);
  if (a.score < min_score_) return false;  // as evaluate(): no Hit below the -e gate
  hit = make_hit(a, query_.len, tlen, db_residues_, params_.seq_id_mode);
  return accept(params_, hit);
}

}  // namespace esm::align
