#include "store/input_digest.hpp"

#include <vector>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace esm::store {
namespace {

constexpr uint64_t kPrime = (uint64_t(1) << 61) - 1;
// Four fixed bases below the prime (any distinct values > 1 will do; these are arbitrary).
constexpr std::array<uint64_t, 4> kBase = {0x1d8e4e27c47d124fULL % kPrime, 0x2545f4914f6cdd1dULL % kPrime,
                                           0x13c6ef372fe94f82ULL % kPrime, 0x0a54ff53a5f1d36fULL % kPrime};

uint64_t mulmod(uint64_t a, uint64_t b) {
  unsigned __int128 p = (unsigned __int128)a * b;
  uint64_t lo = uint64_t(p & kPrime), hi = uint64_t(p >> 61);
  uint64_t s = lo + hi;
  return s >= kPrime ? s - kPrime : s;
}
uint64_t addmod(uint64_t a, uint64_t b) {
  uint64_t s = a + b;
  return s >= kPrime ? s - kPrime : s;
}
uint64_t powmod(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  for (; e; e >>= 1, b = mulmod(b, b))
    if (e & 1) r = mulmod(r, b);
  return r;
}

}  // namespace

InputDigest::InputDigest() { power_.fill(1); }

void InputDigest::add(std::string_view id, std::string_view residues) {
  Sha256 h;
  h.update(id.data(), id.size());
  h.update("\n", 1);
  h.update(residues.data(), residues.size());
  h.update("\n", 1);
  auto d = h.digest();
  for (size_t k = 0; k < 4; ++k) {
    uint64_t w = 0;
    for (size_t b = 0; b < 8; ++b) w = (w << 8) | d[k * 8 + b];
    sum_[k] = addmod(sum_[k], mulmod(w % kPrime, power_[k]));
    power_[k] = mulmod(power_[k], kBase[k]);
  }
  ++count_;
}

std::string InputDigest::finish(MPI_Comm comm) {
  uint64_t first = 0, total = 0;
  MPI_Exscan(&count_, &first, 1, MPI_UINT64_T, MPI_SUM, comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) first = 0;  // MPI_Exscan leaves rank 0's result undefined
  MPI_Allreduce(&count_, &total, 1, MPI_UINT64_T, MPI_SUM, comm);
  int size = 1;
  MPI_Comm_size(comm, &size);
  std::array<uint64_t, 4> shifted;
  for (size_t k = 0; k < 4; ++k) shifted[k] = mulmod(sum_[k], powmod(kBase[k], first));
  std::vector<uint64_t> all(size_t(size) * 4);
  MPI_Allgather(shifted.data(), 4, MPI_UINT64_T, all.data(), 4, MPI_UINT64_T, comm);
  std::array<uint64_t, 4> sum{};
  for (int r = 0; r < size; ++r)
    for (size_t k = 0; k < 4; ++k) sum[k] = addmod(sum[k], all[size_t(r) * 4 + k]);
  return sha256_hex(str("esmpipe input digest v2 n=", total, " ", sum[0], " ", sum[1], " ", sum[2], " ", sum[3]));
}

}  // namespace esm::store
