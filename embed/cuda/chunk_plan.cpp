#include "cuda/chunk_plan.hpp"

namespace esm::embed::cuda {

namespace {
constexpr int32_t kMaskToken = 32;
constexpr int kVocabSize = 33;
size_t align16(size_t n) { return (n + 15) / 16 * 16; }
}  // namespace

std::vector<Chunk> plan_chunks(const std::vector<std::vector<int32_t>>& tokens, int64_t max_tokens, bool contacts,
                               int64_t max_token_squares) {
  std::vector<Chunk> chunks;
  Chunk cur;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int len = static_cast<int>(tokens[i].size());
    const int64_t sq = static_cast<int64_t>(len) * len;
    if (cur.count && (cur.T + len > max_tokens || (contacts && cur.token_squares + sq > max_token_squares))) {
      chunks.push_back(cur);
      cur = Chunk{};
    }
    if (!cur.count) cur.first = i;
    cur.count++;
    cur.T += len;
    cur.R += len - 2;
    cur.tiles += (len + kAttentionTileRows - 1) / kAttentionTileRows;
    cur.token_squares += sq;
    cur.residue_squares += static_cast<int64_t>(len - 2) * (len - 2);
  }
  if (cur.count) chunks.push_back(cur);
  return chunks;
}

MetaLayout::MetaLayout(const Chunk& c) {
  const size_t T = size_t(c.T), B = c.count, R = size_t(c.R), n_tiles = size_t(c.tiles);
  size_t o = 0;
  auto take = [&](size_t bytes) {
    size_t at = o;
    o += align16(bytes);
    return at;
  };
  tokens = take(4 * T);
  positions = take(4 * T);
  token_seq = take(4 * T);
  cu_seqlens = take(4 * (B + 1));
  denom = take(4 * B);
  residue_token = take(4 * R);
  residue_seq = take(4 * R);
  cu_residues = take(4 * (B + 1));
  cu_tsq = take(8 * (B + 1));
  cu_rsq = take(8 * (B + 1));
  tiles = take(8 * n_tiles);
  total = o;
}

void fill_chunk_meta(const std::vector<std::vector<int32_t>>& tokens, const Chunk& c, char* base) {
  const MetaLayout ml(c);
  auto i32 = [&](size_t off) { return reinterpret_cast<int32_t*>(base + off); };
  auto i64 = [&](size_t off) { return reinterpret_cast<int64_t*>(base + off); };
  int32_t *tok = i32(ml.tokens), *pos = i32(ml.positions), *tseq = i32(ml.token_seq), *cu = i32(ml.cu_seqlens);
  int32_t *rtok = i32(ml.residue_token), *rseq = i32(ml.residue_seq), *cur = i32(ml.cu_residues);
  int32_t* tiles = i32(ml.tiles);
  int64_t *ctsq = i64(ml.cu_tsq), *crsq = i64(ml.cu_rsq);
  float* denom = reinterpret_cast<float*>(base + ml.denom);
  int t = 0, r = 0, tile = 0;
  cu[0] = cur[0] = 0;
  ctsq[0] = crsq[0] = 0;
  for (size_t b = 0; b < c.count; ++b) {
    const std::vector<int32_t>& s = tokens[c.first + b];
    const int len = static_cast<int>(s.size());
    int masks = 0;
    for (int p = 0; p < len; ++p) {
      tok[t + p] = s[size_t(p)];
      pos[t + p] = p;
      tseq[t + p] = static_cast<int32_t>(b);
      masks += s[size_t(p)] == kMaskToken;
    }
    denom[b] = 1.0f - static_cast<float>(masks) / static_cast<float>(len);
    for (int p = 1; p + 1 < len; ++p, ++r) {
      rtok[r] = t + p;
      rseq[r] = static_cast<int32_t>(b);
    }
    for (int q0 = 0; q0 < len; q0 += kAttentionTileRows, ++tile) {
      tiles[2 * tile] = static_cast<int32_t>(b);
      tiles[2 * tile + 1] = q0;
    }
    t += len;
    cu[b + 1] = t;
    cur[b + 1] = r;
    ctsq[b + 1] = ctsq[b] + static_cast<int64_t>(len) * len;
    crsq[b + 1] = crsq[b] + static_cast<int64_t>(len - 2) * (len - 2);
  }
}

OutputLayout::OutputLayout(int nlayers, const Chunk& c, int D, bool logits_on) {
  const size_t R = size_t(c.R), B = c.count;
  layer_rows = 0;
  layer_means = size_t(nlayers) * R * D;
  logits = layer_means + size_t(nlayers) * B * D;
  contacts = logits + (logits_on ? R * kVocabSize : 0);
  total = contacts + size_t(c.residue_squares);
}

}  // namespace esm::embed::cuda
