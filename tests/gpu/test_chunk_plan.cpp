// The CUDA backend's host bookkeeping (no GPU needed): chunking under the token budget and the
// packed per-chunk metadata the kernels index with.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "cuda/chunk_plan.hpp"

namespace esm::embed::cuda {
namespace {

std::vector<int32_t> seq(int residues, int masks = 0) {
  std::vector<int32_t> t{0};
  for (int i = 0; i < residues; ++i) t.push_back(i < masks ? 32 : 4 + i % 20);
  t.push_back(2);
  return t;
}

TEST(ChunkPlan, KeepsOrderAndBudget) {
  std::vector<std::vector<int32_t>> tokens{seq(100), seq(50), seq(300), seq(10), seq(0), seq(700), seq(20)};
  auto chunks = plan_chunks(tokens, 400, false, 0);
  size_t next = 0;
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.first, next);
    int T = 0;
    for (size_t i = c.first; i < c.first + c.count; ++i) T += int(tokens[i].size());
    EXPECT_EQ(c.T, T);
    EXPECT_EQ(c.R, T - 2 * int(c.count));
    EXPECT_TRUE(c.T <= 400 || c.count == 1) << "chunk at " << c.first;
    next = c.first + c.count;
  }
  EXPECT_EQ(next, tokens.size());
  ASSERT_EQ(chunks.size(), 4u);  // {102, 52} {302, 12, 2} {702} {22}
  EXPECT_EQ(chunks[1].count, 3u);
  EXPECT_EQ(chunks[2].T, 702);
}

TEST(ChunkPlan, ContactsAlsoBoundTheAttentionMaps) {
  std::vector<std::vector<int32_t>> tokens{seq(98), seq(98), seq(98)};  // 100 tokens each
  EXPECT_EQ(plan_chunks(tokens, 1000, false, 25000).size(), 1u);
  auto chunks = plan_chunks(tokens, 1000, true, 25000);  // 10,000 token pairs each
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].count, 2u);
  EXPECT_EQ(chunks[0].token_squares, 20000);
  EXPECT_EQ(chunks[0].residue_squares, 2 * 98 * 98);
}

TEST(ChunkPlan, MetadataDescribesThePackedChunk) {
  std::vector<std::vector<int32_t>> tokens{seq(5), seq(70, 7), seq(0), seq(1)};
  auto chunks = plan_chunks(tokens, 1 << 20, false, 0);
  ASSERT_EQ(chunks.size(), 1u);
  const Chunk& c = chunks[0];
  MetaLayout ml(c);
  std::vector<char> buf(ml.total);
  fill_chunk_meta(tokens, c, buf.data());
  auto i32 = [&](size_t off) { return reinterpret_cast<const int32_t*>(buf.data() + off); };
  auto i64 = [&](size_t off) { return reinterpret_cast<const int64_t*>(buf.data() + off); };
  const int32_t* cu = i32(ml.cu_seqlens);
  EXPECT_EQ(std::vector<int32_t>(cu, cu + 5), (std::vector<int32_t>{0, 7, 79, 81, 84}));
  const int32_t* cur = i32(ml.cu_residues);
  EXPECT_EQ(std::vector<int32_t>(cur, cur + 5), (std::vector<int32_t>{0, 5, 75, 75, 76}));
  // Every residue maps back to its token, and that token is neither cls nor eos.
  const int32_t *rtok = i32(ml.residue_token), *rseq = i32(ml.residue_seq), *tok = i32(ml.tokens);
  const int32_t *pos = i32(ml.positions), *tseq = i32(ml.token_seq);
  for (int r = 0; r < c.R; ++r) {
    const int b = rseq[r];
    EXPECT_EQ(rtok[r], cu[b] + 1 + (r - cur[b]));
    EXPECT_NE(tok[rtok[r]], 0);
    EXPECT_NE(tok[rtok[r]], 2);
  }
  for (int t = 0; t < c.T; ++t) EXPECT_EQ(pos[t], t - cu[tseq[t]]);
  // Token dropout denominators: 1 - masks / tokens, in fp32.
  const float* denom = reinterpret_cast<const float*>(buf.data() + ml.denom);
  EXPECT_EQ(denom[0], 1.0f);
  EXPECT_EQ(denom[1], 1.0f - 7.0f / 72.0f);
  // Attention tiles: (sequence, first row) covering every row once, 64 rows each.
  const int32_t* tiles = i32(ml.tiles);
  ASSERT_EQ(c.tiles, 1 + 2 + 1 + 1);
  EXPECT_EQ(tiles[2], 1);
  EXPECT_EQ(tiles[3], 0);
  EXPECT_EQ(tiles[4], 1);
  EXPECT_EQ(tiles[5], 64);
  const int64_t *tsq = i64(ml.cu_tsq), *rsq = i64(ml.cu_rsq);
  EXPECT_EQ(tsq[4], 7 * 7 + 72 * 72 + 2 * 2 + 3 * 3);
  EXPECT_EQ(rsq[4], 5 * 5 + 70 * 70 + 0 + 1);
  // Output layout: rows, means, logits, contacts back to back.
  OutputLayout ol(2, c, 8, true);
  EXPECT_EQ(ol.layer_means, size_t(2) * 76 * 8);
  EXPECT_EQ(ol.logits, ol.layer_means + size_t(2) * 4 * 8);
  EXPECT_EQ(ol.contacts, ol.logits + size_t(76) * 33);
  EXPECT_EQ(ol.total, ol.contacts + size_t(rsq[4]));
}

}  // namespace
}  // namespace esm::embed::cuda
