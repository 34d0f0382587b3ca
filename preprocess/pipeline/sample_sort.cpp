#include "pipeline/sample_sort.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <queue>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "pipeline/record_file.hpp"

namespace esm::prep {

void sort_keys(const std::string_view record, uint64_t& major, uint64_t& minor) {
  Unpacker u(record);
  major = u.u64();
  minor = u.u64();
}

std::vector<uint64_t> choose_splitters(const std::vector<uint64_t>& local_bucket_bytes, uint64_t width,
                                       uint64_t major_end) {
  const int P = mpi::size();
  std::vector<uint64_t> hist(local_bucket_bytes.size());
  if (!hist.empty())
    MPI_Allreduce(local_bucket_bytes.data(), hist.data(), static_cast<int>(hist.size()), MPI_UINT64_T, MPI_SUM,
                  mpi::comm());
  uint64_t total = 0;
  for (uint64_t b : hist) total += b;
  std::vector<uint64_t> bounds(P + 1, major_end);
  bounds[0] = 0;
  // Cut after the bucket where the running total first reaches r/P of the bytes.
  uint64_t run = 0;
  int r = 1;
  for (size_t b = 0; b < hist.size() && r < P; ++b) {
    run += hist[b];
    while (r < P && run * P >= total * static_cast<uint64_t>(r)) {
      bounds[r++] = std::min(major_end, (b + 1) * width);
    }
  }
  return bounds;
}

namespace {

// Received records held in memory: one arena and an index sorted at spill time.
struct Batch {
  struct Entry { uint64_t major, minor; size_t off, len; };
  std::string arena;
  std::vector<Entry> entries;
  // Allocated, not used, bytes: growth by doubling can hold twice what is used.
  size_t footprint() const { return arena.capacity() + entries.capacity() * sizeof(Entry); }

  void add_buffer(const std::string& buf) {
    Unpacker frames(buf);
    while (!frames.done()) {
      std::string_view rec = frames.str();
      Entry e{};
      sort_keys(rec, e.major, e.minor);
      e.off = arena.size();
      e.len = rec.size();
      arena.append(rec);
      entries.push_back(e);
    }
  }
  void sort() {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.major != b.major ? a.major < b.major : a.minor < b.minor;
    });
  }
  void write_to(RecordWriter& w, SortStats* stats) const {
    for (const Entry& e : entries) {
      w.put(std::string_view(arena.data() + e.off, e.len));
      if (stats) { ++stats->records; stats->bytes += e.len; }
    }
  }
  void clear() { arena.clear(); arena.shrink_to_fit(); entries.clear(); entries.shrink_to_fit(); }
};

}  // namespace

SortStats sample_sort(const std::string& input, const std::string& output, const std::vector<uint64_t>& bounds,
                      uint64_t memory_limit, const std::string& spill_prefix) {
  const int P = mpi::size();
  SortStats stats;
  const uint64_t send_limit = std::max<uint64_t>(uint64_t(1) << 16, memory_limit / (4 * static_cast<uint64_t>(P)));
  // Peak per rank: held records (< spill_at) + one round received (<= L/4) + one round queued to
  // send (<= L/4) + a run being written, so spilling at L/2 of allocated bytes stays near L.
  const uint64_t spill_at = std::max<uint64_t>(uint64_t(1) << 16, memory_limit / 2);

  RecordReader in(input);
  bool local_done = false;
  Batch batch;
  std::vector<std::string> runs;
  auto spill = [&]() {
    batch.sort();
    std::string path = spill_prefix + ".run" + std::to_string(runs.size()) + ".zst";
    RecordWriter w(path);
    batch.write_to(w, nullptr);
    w.close();
    runs.push_back(path);
    batch.clear();
    ++stats.runs_spilled;
  };

  for (;;) {
    std::vector<Packer> send(P);
    uint64_t queued = 0;
    std::string_view rec;
    while (!local_done && queued < send_limit) {
      if (!in.next(rec)) { local_done = true; break; }
      uint64_t major, minor;
      sort_keys(rec, major, minor);
      int dest = static_cast<int>(std::upper_bound(bounds.begin() + 1, bounds.end() - 1, major) - (bounds.begin() + 1));
      send[dest].str(rec);
      queued += rec.size() + 4;
    }
    // Both collectives run on every rank every round (no short-circuit).
    bool all_done = mpi::all_true(local_done);
    uint64_t most_queued = mpi::allreduce_max(queued);
    if (all_done && most_queued == 0) break;
    std::vector<std::string> out(P);
    for (int r = 0; r < P; ++r) out[r] = std::move(send[r].bytes());
    std::vector<std::string> got = mpi::alltoall_bytes(out);
    out.clear();
    for (const auto& buf : got) batch.add_buffer(buf);
    ++stats.rounds;
    if (batch.footprint() > spill_at) spill();
  }

  if (runs.empty()) {
    batch.sort();
    RecordWriter w(output);
    batch.write_to(w, &stats);
    w.close();
    return stats;
  }
  if (!batch.entries.empty()) spill();
  log::info("sort: merging ", runs.size(), " spilled runs");
  // k-way merge of the sorted runs.
  struct Head { uint64_t major, minor; size_t run; };
  auto later = [](const Head& a, const Head& b) {
    return a.major != b.major ? a.major > b.major : a.minor > b.minor;
  };
  std::vector<std::unique_ptr<RecordReader>> readers;
  std::vector<std::string_view> current(runs.size());
  std::priority_queue<Head, std::vector<Head>, decltype(later)> heap(later);
  for (size_t i = 0; i < runs.size(); ++i) {
    readers.push_back(std::make_unique<RecordReader>(runs[i]));
    if (readers[i]->next(current[i])) {
      Head h{0, 0, i};
      sort_keys(current[i], h.major, h.minor);
      heap.push(h);
    }
  }
  RecordWriter w(output);
  while (!heap.empty()) {
    Head h = heap.top();
    heap.pop();
    w.put(current[h.run]);
    ++stats.records;
    stats.bytes += current[h.run].size();
    if (readers[h.run]->next(current[h.run])) {
      sort_keys(current[h.run], h.major, h.minor);
      heap.push(h);
    }
  }
  w.close();
  for (const auto& r : runs) std::remove(r.c_str());
  return stats;
}

}  // namespace esm::prep
