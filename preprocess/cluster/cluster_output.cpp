#include "cluster/cluster_output.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "core/error.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {

void put_u64(std::string& b, uint64_t v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); }
uint64_t get_u64(const std::string& b, size_t& at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

}  // namespace

uint64_t write_cluster_tsv(const std::filesystem::path& path, const std::vector<io::FastaRecord>& records,
                           const Partition& part, const std::vector<uint64_t>& rep_of) {
  const int me = mpi::rank(), nranks = mpi::size();
  const uint64_t first = part.first(me);
  // Each line goes to the rank holding its representative: (rep, member, member ID).
  std::vector<std::string> outbox(nranks);
  for (size_t i = 0; i < records.size(); ++i) {
    std::string& b = outbox[part.owner(rep_of[i])];
    put_u64(b, rep_of[i]);
    put_u64(b, first + i);
    put_u64(b, records[i].id.size());
    b += records[i].id;
  }
  std::vector<std::string> inbox = mpi::alltoall_bytes(outbox);
  outbox.clear();
  struct Line {
    uint64_t rep, member;
    std::string_view id;
  };
  std::vector<Line> lines;
  for (const std::string& b : inbox)
    for (size_t at = 0; at < b.size();) {
      Line l;
      l.rep = get_u64(b, at);
      l.member = get_u64(b, at);
      uint64_t n = get_u64(b, at);
      l.id = std::string_view(b).substr(at, n);
      at += n;
      lines.push_back(l);
    }
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return std::make_tuple(a.rep, a.member != a.rep, a.member) < std::make_tuple(b.rep, b.member != b.rep, b.member);
  });
  std::string text;
  uint64_t clusters = 0;
  for (const Line& l : lines) {
    clusters += l.member == l.rep;
    text += records[l.rep - first].id;
    text += '\t';
    text += l.id;
    text += '\n';
  }
  lines.clear();
  inbox.clear();
  write_ordered(path, text);
  return mpi::allreduce_sum(clusters);
}

void write_representatives(const std::filesystem::path& path, const std::vector<io::FastaRecord>& records,
                           const Partition& part, const std::vector<uint64_t>& rep_of) {
  const uint64_t first = part.first(mpi::rank());
  std::string text;
  for (size_t i = 0; i < records.size(); ++i) {
    if (rep_of[i] != first + i) continue;
    const io::FastaRecord& r = records[i];
    text += '>';
    text += r.id;
    if (!r.description.empty()) {
      text += ' ';
      text += r.description;
    }
    text += '\n';
    text += r.seq;
    text += '\n';
  }
  write_ordered(path, text);
}

}  // namespace esm::cluster
