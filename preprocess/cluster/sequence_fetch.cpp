#include "cluster/sequence_fetch.hpp"

#include <algorithm>
#include <cstring>

#include "cluster/exchange.hpp"
#include "core/error.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

std::string_view SequenceCache::get(uint64_t gid) const {
  auto it = std::lower_bound(gids_.begin(), gids_.end(), gid);
  if (it == gids_.end() || *it != gid) fail("internal: sequence ", gid, " was not fetched");
  size_t i = size_t(it - gids_.begin());
  return std::string_view(residues_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
}

SequenceCache fetch_sequences(std::vector<uint64_t> wanted, const Partition& part,
                              const std::vector<std::string_view>& local) {
  int nranks = mpi::size(), me = mpi::rank();
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  // Requests go out sorted, so each owner's reply comes back in the order of `wanted`.
  std::vector<std::vector<uint64_t>> requests(nranks);
  for (uint64_t g : wanted) requests[part.owner(g)].push_back(g);
  std::vector<std::vector<uint64_t>> asked = exchange_by_rank(requests);

  // Replies: the lengths, then the residues, per requesting rank.
  std::vector<std::string> replies(nranks);
  uint64_t first = part.first(me);
  for (int r = 0; r < nranks; ++r) {
    std::string& out = replies[r];
    size_t bytes = asked[r].size() * sizeof(uint32_t);
    for (uint64_t g : asked[r]) {
      if (g < first || g - first >= local.size()) fail("internal: rank ", me, " asked for sequence ", g, " it does not hold");
      bytes += local[g - first].size();
    }
    out.resize(asked[r].size() * sizeof(uint32_t));
    out.reserve(bytes);
    for (size_t i = 0; i < asked[r].size(); ++i) {
      uint32_t n = uint32_t(local[asked[r][i] - first].size());
      std::memcpy(out.data() + i * sizeof n, &n, sizeof n);
    }
    for (uint64_t g : asked[r]) out.append(local[g - first]);
  }
  asked.clear();
  std::vector<std::string> got = mpi::alltoall_bytes(replies);
  replies.clear();

  SequenceCache cache;
  cache.gids_ = std::move(wanted);
  cache.offsets_.reserve(cache.gids_.size() + 1);
  cache.offsets_.push_back(0);
  size_t total = 0;
  for (const auto& g : got) total += g.size();
  cache.residues_.reserve(total);
  // gids_ is sorted and owners hold ascending ranges, so replies concatenated in rank order
  // line up with gids_.
  size_t at = 0;
  for (int r = 0; r < nranks; ++r) {
    const std::string& buf = got[r];
    size_t count = 0;
    while (at + count < cache.gids_.size() && part.owner(cache.gids_[at + count]) == r) ++count;
    if (buf.size() < count * sizeof(uint32_t)) fail("internal: short sequence reply from rank ", r);
    size_t pos = count * sizeof(uint32_t);
    for (size_t i = 0; i < count; ++i) {
      uint32_t n;
      std::memcpy(&n, buf.data() + i * sizeof n, sizeof n);
      cache.residues_.append(buf, pos, n);
      pos += n;
      cache.offsets_.push_back(cache.residues_.size());
    }
    at += count;
  }
  return cache;
}

}  // namespace esm::cluster
