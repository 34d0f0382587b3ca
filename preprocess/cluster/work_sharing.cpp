#include "cluster/work_sharing.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "core/error.hpp"
#include "core/mpi_env.hpp"

namespace esm::cluster {

namespace {

// Point-to-point tag of the sharing; nothing else in esmpipe sends point-to-point while a step runs.
constexpr int kTag = 7101;

// Every message starts with one: a claim, or the decisions of a chunk (which follow it).
struct Header {
  int32_t kind, owner, chunk;
};
enum : int32_t { kClaim = 1, kResult = 2 };

// Standard sends (eager for these sizes: a claim is seen as soon as it is sent; a synchronous
// send was seen only at the sender's next MPI call, a chunk later, so the chunk where owner and
// holder met was aligned twice in nearly every step), counted per destination for the end of
// the step.
class Outbox {
 public:
  explicit Outbox(int nranks) : sent_to_(size_t(nranks), 0) {}
  void send(int to, std::string payload) {
    payloads_.push_back(std::move(payload));  // a deque: earlier payloads stay where they are
    requests_.emplace_back();
    MPI_Isend(payloads_.back().data(), int(payloads_.back().size()), MPI_BYTE, to, kTag, mpi::comm(),
              &requests_.back());
    ++sent_to_[size_t(to)];
  }
  const std::vector<int>& sent_to() const { return sent_to_; }
  void wait() { MPI_Waitall(int(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE); }

 private:
  std::deque<std::string> payloads_;
  std::vector<MPI_Request> requests_;
  std::vector<int> sent_to_;
};

std::string bytes_of(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

}  // namespace

std::vector<int> tail_holders(int rank, int nranks) {
  std::vector<int> out;
  for (int k = 1; k <= std::min(nranks - 1, 2); ++k) out.push_back((rank + k) % nranks);
  return out;
}

std::vector<std::vector<uint8_t>> share_tails(const Tail& own, const std::vector<Tail>& held,
                                              const ChunkAligner& align, SharingStats& stats) {
  const int me = mpi::rank(), nranks = mpi::size();
  const size_t nown = own.chunks.size();
  std::vector<std::vector<uint8_t>> decided(nown);
  std::vector<uint8_t> own_done(nown, 0), own_claimed(nown, 0), aligned_here(nown, 0);
  std::vector<std::vector<uint8_t>> held_claimed(held.size());
  for (size_t t = 0; t < held.size(); ++t) held_claimed[t].assign(held[t].chunks.size(), 0);
  Outbox outbox(nranks);
  std::vector<int> received_from(size_t(nranks), 0);

  auto record = [&](size_t chunk, std::vector<uint8_t> ok) {
    if (ok.size() != own.chunks[chunk].size())
      fail("internal: ", ok.size(), " decisions for chunk ", chunk, " of ", own.chunks[chunk].size(), " pairs");
    if (own_done[chunk]) {
      if (decided[chunk] != ok) fail("internal: two ranks decided chunk ", chunk, " of rank ", me, " differently");
      ++stats.twice;
      return;
    }
    decided[chunk] = std::move(ok);
    own_done[chunk] = 1;
  };
  auto handle = [&](const MPI_Status& st) {
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    std::string msg(size_t(n), '\0');
    MPI_Recv(msg.data(), n, MPI_BYTE, st.MPI_SOURCE, kTag, mpi::comm(), MPI_STATUS_IGNORE);
    ++received_from[size_t(st.MPI_SOURCE)];
    Header h{};
    if (msg.size() < sizeof h) fail("internal: short work-sharing message from rank ", st.MPI_SOURCE);
    std::memcpy(&h, msg.data(), sizeof h);
    if (h.owner == me && h.chunk >= 0 && size_t(h.chunk) < nown) {
      if (h.kind == kResult) record(size_t(h.chunk), std::vector<uint8_t>(msg.begin() + sizeof h, msg.end()));
      else own_claimed[size_t(h.chunk)] = 1;
      return;
    }
    for (size_t t = 0; t < held.size(); ++t)
      if (h.kind == kClaim && held[t].owner == h.owner && h.chunk >= 0 && size_t(h.chunk) < held_claimed[t].size()) {
        held_claimed[t][size_t(h.chunk)] = 1;
        return;
      }
    fail("internal: rank ", st.MPI_SOURCE, " sent rank ", me, " a message for chunk ", h.chunk, " of rank ", h.owner);
  };
  // A probe that finds nothing makes progress afterwards (Open MPI: messages that arrived are
  // queued then), so one more looks at what that brought: with a single probe a claim was seen
  // a chunk late.
  auto poll = [&] {
    for (int misses = 0; misses < 2;) {
      int any = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, kTag, mpi::comm(), &any, &st);
      if (!any) {
        ++misses;
        continue;
      }
      handle(st);
    }
  };
  auto claim = [&](int owner, size_t chunk) {
    const Header h{kClaim, owner, int32_t(chunk)};
    std::vector<int> to = tail_holders(owner, nranks);
    to.push_back(owner);
    for (int r : to)
      if (r != me) outbox.send(r, bytes_of(&h, sizeof h));
  };

  // Own chunks, front to back.
  for (size_t k = 0; k < nown; ++k) {
    poll();
    if (own_claimed[k]) continue;
    own_claimed[k] = 1;
    claim(me, k);
    aligned_here[k] = 1;
    record(k, align(own.chunks[k]));
  }

  // Then the others' from the back, the tail with the most chunks left first.
  for (;;) {
    poll();
    size_t pick = held.size(), left_most = 0;
    for (size_t t = 0; t < held.size(); ++t) {
      const size_t left = size_t(std::count(held_claimed[t].begin(), held_claimed[t].end(), uint8_t(0)));
      if (left > left_most) pick = t, left_most = left;
    }
    if (pick == held.size()) break;
    const Tail& tail = held[pick];
    size_t k = held_claimed[pick].size();
    while (held_claimed[pick][k - 1]) --k;
    --k;
    held_claimed[pick][k] = 1;
    claim(tail.owner, k);
    const std::vector<uint8_t> ok = align(tail.chunks[k]);
    const Header h{kResult, tail.owner, int32_t(k)};
    std::string msg = bytes_of(&h, sizeof h);
    msg.append(reinterpret_cast<const char*>(ok.data()), ok.size());
    outbox.send(tail.owner, std::move(msg));
    ++stats.taken;
    stats.taken_pairs += tail.chunks[k].size();
  }

  // Nothing left to take (a chunk that looks free is free: claims only ever arrive late). Every
  // rank learns how many messages the others sent it and receives the rest. Waiting in the
  // collective is safe: what others still send this rank are claims of chunks it will not
  // align and decisions of its own chunks, which it has stopped taking.
  std::vector<int> expect(size_t(nranks), 0);
  MPI_Alltoall(outbox.sent_to().data(), 1, MPI_INT, expect.data(), 1, MPI_INT, mpi::comm());
  for (int r = 0; r < nranks; ++r)
    while (received_from[size_t(r)] < expect[size_t(r)]) {
      MPI_Status st;
      MPI_Probe(r, kTag, mpi::comm(), &st);
      handle(st);
    }
  outbox.wait();
  for (size_t k = 0; k < nown; ++k) {
    if (!own_done[k]) fail("internal: chunk ", k, " of rank ", me, " was taken but its decisions never came");
    if (!aligned_here[k]) ++stats.given;
  }
  return decided;
}

}  // namespace esm::cluster
