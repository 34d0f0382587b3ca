// Counter-based randomness: every random choice of the pipeline is a pure function of
// (seed, stream, counter), so it never depends on how records are spread over ranks or on
// the order in which ranks reach them.
#pragma once
#include <cstdint>
#include <string_view>

namespace esm::prep {

// Streams keep unrelated choices independent even when they share a seed and a counter.
enum class RngStream : uint64_t {
  kValidation = 0x76616c6964ull,    // validation choice, counter = UniRef50 record index
  kCropUniRef50 = 0x63726f7035ull,  // --crop random start, counter = UniRef50 record index
  kCropUniRef90 = 0x63726f7039ull,  // --crop random start, counter = UniRef90 record index
  kEpochOrder = 0x6f72646572ull,    // sampler: cluster order of an epoch
  kEpochMember = 0x6d656d626572ull  // sampler: member drawn for a cluster
};

// The splitmix64 finaliser: a bijective 64-bit mixer with full avalanche.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t counter_hash(uint64_t seed, RngStream stream, uint64_t counter, uint64_t counter2 = 0) {
  uint64_t h = mix64(seed ^ mix64(static_cast<uint64_t>(stream)));
  h = mix64(h ^ counter);
  return mix64(h ^ mix64(counter2 + 0x2545f4914f6cdd1dull));
}

// A uniform draw in [0, n) from a 64-bit hash (multiply-high; bias below n / 2^64).
inline uint64_t uniform_below(uint64_t hash, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(hash) * n) >> 64);
}

// FNV-1a over bytes, then mixed: spreads IDs over ranks for hash-partitioned joins.
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return mix64(h);
}

// A seeded bijection of [0, n) in O(1) memory: a balanced Feistel network over the smallest
// even bit width covering n, with cycle walking to stay inside [0, n). Used for epoch
// orders of tens of millions of clusters without materialising a shuffled array.
class FeistelPermutation {
 public:
  FeistelPermutation(uint64_t n, uint64_t key) : n_(n), key_(key) {
    int bits = 2;
    while (bits < 64 && (uint64_t(1) << bits) < n) ++bits;
    if (bits & 1) ++bits;
    half_ = bits / 2;
    mask_ = (uint64_t(1) << half_) - 1;
  }
  uint64_t operator()(uint64_t i) const {
    uint64_t x = i;
    do x = encrypt(x); while (x >= n_);
    return x;
  }

 private:
  uint64_t encrypt(uint64_t x) const {
    uint64_t left = x >> half_, right = x & mask_;
    for (uint64_t round = 0; round < 4; ++round) {
      uint64_t f = mix64(key_ ^ mix64((round << 56) ^ right)) & mask_;
      uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    return (left << half_) | right;
  }
  uint64_t n_, key_, mask_;
  int half_;
};

}  // namespace esm::prep
