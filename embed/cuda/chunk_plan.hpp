// Host-side bookkeeping of the CUDA backend, kept free of CUDA so it is unit-tested in every
// build: how a forward() batch is cut into chunks, and the per-chunk metadata the kernels read
// (one packed buffer, uploaded with a single copy) and the results buffer they fill.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace esm::embed::cuda {

// Query rows per attention tile (the flash kernel's block: 4 warps x 16 rows).
inline constexpr int kAttentionTileRows = 64;

struct Chunk {
  size_t first = 0, count = 0;  // sequences [first, first + count) of the forward() call
  int T = 0, R = 0, tiles = 0;  // tokens, residues (T - 2 count), attention tiles
  int64_t token_squares = 0, residue_squares = 0;  // sums of T_b^2 and n_b^2
};

// Consecutive sequences (the caller's order is kept) while the chunk stays within max_tokens
// and, when contacts are asked, within max_token_squares; a sequence over a limit gets a chunk
// of its own.
std::vector<Chunk> plan_chunks(const std::vector<std::vector<int32_t>>& tokens, int64_t max_tokens,
                               bool contacts, int64_t max_token_squares);

// Byte offsets of the metadata arrays in the packed buffer (16-byte aligned pieces).
struct MetaLayout {
  size_t tokens, positions, token_seq, cu_seqlens, denom, residue_token, residue_seq, cu_residues, cu_tsq,
      cu_rsq, tiles, total;
  explicit MetaLayout(const Chunk& c);
};

// Fills the buffer (MetaLayout(c).total bytes) for chunk c: tokens, positions inside each
// sequence, sequence of each token, cu_seqlens, token-dropout denominators 1 - masks/tokens
// (fp32, as the reference), residue -> token and residue -> sequence maps, cu_residues, prefix
// sums of T_b^2 and n_b^2, and the (sequence, first query row) attention tiles.
void fill_chunk_meta(const std::vector<std::vector<int32_t>>& tokens, const Chunk& c, char* base);

// Float offsets of a chunk's results: per requested layer [R, D] rows, then per layer [B, D]
// means, then [R, 33] logits, then the n_b x n_b contact maps back to back.
struct OutputLayout {
  size_t layer_rows = 0, layer_means = 0, logits = 0, contacts = 0, total = 0;
  OutputLayout(int nlayers, const Chunk& c, int D, bool logits_on);
};

}  // namespace esm::embed::cuda
