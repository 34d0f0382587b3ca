#include "cluster/pair_message.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace esm::cluster {

namespace {

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T take(const std::string& in, size_t& at) {
  if (at + sizeof(T) > in.size()) fail("internal: truncated pair message");
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

}  // namespace

std::string pack_pairs(const std::vector<Pair>& pairs, const SequenceLookup& residues) {
  std::string out;
  std::vector<uint64_t> gids;
  put<uint64_t>(out, pairs.size());
  for (const Pair& p : pairs) {
    put<uint64_t>(out, p.center);
    put<uint64_t>(out, p.member);
    gids.push_back(p.center);
    gids.push_back(p.member);
  }
  std::sort(gids.begin(), gids.end());
  gids.erase(std::unique(gids.begin(), gids.end()), gids.end());
  put<uint64_t>(out, gids.size());
  for (uint64_t g : gids) {
    const std::string_view s = residues(g);
    put<uint64_t>(out, g);
    put<uint64_t>(out, s.size());
    out.append(s);
  }
  return out;
}

size_t unpack_pairs(const std::string& msg, std::vector<Pair>& pairs, ResidueTable& residues) {
  if (msg.empty()) return 0;
  size_t pos = 0;
  const uint64_t n = take<uint64_t>(msg, pos);
  for (uint64_t k = 0; k < n; ++k) {
    Pair p;
    p.center = take<uint64_t>(msg, pos);
    p.member = take<uint64_t>(msg, pos);
    pairs.push_back(p);
  }
  const uint64_t nseq = take<uint64_t>(msg, pos);
  for (uint64_t k = 0; k < nseq; ++k) {
    const uint64_t g = take<uint64_t>(msg, pos);
    const uint64_t len = take<uint64_t>(msg, pos);
    if (pos + len > msg.size()) fail("internal: truncated pair message");
    residues.add(g, [&] { return std::string_view(msg.data() + pos, len); });
    pos += len;
  }
  return size_t(n);
}

}  // namespace esm::cluster
