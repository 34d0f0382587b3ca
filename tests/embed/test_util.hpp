// Helpers for the encoder tests: a small .npy reader, the golden directory, tolerance checks.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace esm::embed::test {

inline std::string source_dir() {
  const char* s = std::getenv("ESMPIPE_SOURCE_DIR");
  return s ? s : ESMPIPE_SOURCE_DIR_DEFAULT;
}
inline std::string golden_dir() { return source_dir() + "/data/golden/esm2-public"; }

struct Npy {
  std::string descr;             // "<f4", "<i8", ...
  std::vector<int64_t> shape;
  std::vector<char> data;
  size_t count() const {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    return n;
  }
  std::vector<float> f32() const {
    EXPECT_EQ(descr, "<f4");
    std::vector<float> v(count());
    std::memcpy(v.data(), data.data(), v.size() * 4);
    return v;
  }
  std::vector<int32_t> tokens() const {
    EXPECT_EQ(descr, "<i8");
    std::vector<int32_t> v(count());
    for (size_t i = 0; i < v.size(); ++i) {
      int64_t x;
      std::memcpy(&x, data.data() + 8 * i, 8);
      v[i] = int32_t(x);
    }
    return v;
  }
};

// Reads a C-order .npy (format versions 1-3). Fails the test on anything unexpected.
inline Npy read_npy(const std::string& path) {
  Npy out;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.size() < 10 || all.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not .npy");
  int major = uint8_t(all[6]);
  size_t hlen, pos;
  if (major == 1) {
    hlen = uint8_t(all[8]) | (size_t(uint8_t(all[9])) << 8);
    pos = 10;
  } else {
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= size_t(uint8_t(all[8 + i])) << (8 * i);
    pos = 12;
  }
  std::string header = all.substr(pos, hlen);
  auto field = [&](const std::string& key) {
    size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": no " + key);
    return header.substr(header.find(':', k) + 1);
  };
  std::string d = field("descr");
  size_t q1 = d.find('\''), q2 = d.find('\'', q1 + 1);
  out.descr = d.substr(q1 + 1, q2 - q1 - 1);
  if (field("fortran_order").find("False") > 2) throw std::runtime_error(path + ": fortran order");
  std::string s = field("shape");
  s = s.substr(s.find('(') + 1, s.find(')') - s.find('(') - 1);
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_of("0123456789") != std::string::npos) out.shape.push_back(std::stoll(item));
  out.data.assign(all.begin() + long(pos + hlen), all.end());
  size_t esize = out.descr == "<i8" ? 8 : 4;
  if (out.data.size() != out.count() * esize) throw std::runtime_error(path + ": size mismatch");
  return out;
}

// Every |got - want| <= atol + rtol |want|; reports the worst element.
inline ::testing::AssertionResult all_close(const float* got, const float* want, size_t n, double atol = 1e-4,
                                            double rtol = 1e-4) {
  double worst = 0;
  size_t worst_i = 0, bad = 0;
  for (size_t i = 0; i < n; ++i) {
    double err = std::fabs(double(got[i]) - double(want[i]));
    double excess = err - (atol + rtol * std::fabs(double(want[i])));
    if (!(excess <= 0)) ++bad;  // NaN counts as bad
    if (!(err <= worst)) {
      worst = err;
      worst_i = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess() << "max abs err " << worst;
  return ::testing::AssertionFailure() << bad << " of " << n << " elements outside tolerance; worst at " << worst_i
                                       << ": got " << got[worst_i] << " want " << want[worst_i] << " (err " << worst
                                       << ")";
}

inline ::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  return all_close(got.data(), want.data(), got.size());
}

}  // namespace esm::embed::test
