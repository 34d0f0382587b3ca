#include "encoder/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace esm::embed {

namespace {
// The reference implementation refuses headers above 100 MB; so do we (a corrupt length
// field would otherwise make us parse gigabytes of tensor data as JSON).
constexpr uint64_t kMaxHeader = 100ull << 20;
}  // namespace

size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: value = mant * 2^-24, exactly representable in float
      float f = std::ldexp(float(mant), -24);
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0);  // inf / nan
  if (ax >= 0x477ff000u) return sign | 0x7c00;                                   // overflow to inf
  if (ax < 0x38800000u) {  // below the smallest normal half: round to a multiple of 2^-24
    float a;
    std::memcpy(&a, &ax, 4);
    return sign | uint16_t(std::nearbyint(a * 16777216.0f));  // default rounding: nearest even
  }
  uint32_t mant = ax & 0x7fffff, exp = (ax >> 23) - 112;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // carries into the exponent correctly
  return sign | uint16_t(h);
}

void convert_to_f32(const std::string& dtype, const uint8_t* src, size_t n, float* dst) {
  if (dtype == "F32") {
    std::memcpy(dst, src, n * 4);
  } else if (dtype == "F16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = half_to_float(h);
    }
  } else if (dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      uint32_t bits = uint32_t(h) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else if (dtype == "F64") {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      dst[i] = float(d);
    }
  } else {
    fail("cannot convert tensor dtype ", dtype, " to float32");
  }
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(e));
  }
  size_ = size_t(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    fail(path, ": not a safetensors file: ", size_, " bytes, shorter than the 8-byte header length");
  }
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) fail(path, ": cannot map: ", std::strerror(e));
  base_ = static_cast<uint8_t*>(p);

  try {
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(base_[i]) << (8 * i);
    if (n > kMaxHeader) fail(path, ": corrupt safetensors header length ", n, " (limit ", kMaxHeader, ")");
    if (n > size_ - 8)
      fail(path, ": truncated safetensors file: header length ", n, " but only ", size_ - 8,
           " bytes follow the length field");
    std::string text(reinterpret_cast<const char*>(base_ + 8), size_t(n));
    json::Value root;
    try {
      root = json::parse(text, path + " (safetensors header)");
    } catch (const Error& err) {
      fail(path, ": corrupt safetensors header: ", err.what());
    }
    if (!root.is_object()) fail(path, ": corrupt safetensors header: not a JSON object");
    const uint8_t* data = base_ + 8 + n;
    const size_t data_size = size_ - 8 - size_t(n);

    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& [name, v] : root.as_object()) {
      if (name == "__metadata__") continue;
      auto bad = [&](const std::string& what) { fail(path, ": tensor '", name, "': ", what); };
      if (!v.is_object()) bad("header entry is not an object");
      const json::Value* dt = v.find("dtype");
      const json::Value* sh = v.find("shape");
      const json::Value* off = v.find("data_offsets");
      if (!dt || !dt->is_string()) bad("missing or non-string dtype");
      if (!sh || !sh->is_array()) bad("missing or non-array shape");
      if (!off || !off->is_array() || off->as_array().size() != 2) bad("data_offsets must be [begin, end]");
      TensorInfo t;
      t.name = name;
      t.dtype = dt->as_string();
      size_t esize = dtype_size(t.dtype);
      if (esize == 0) bad("unknown dtype " + t.dtype);
      uint64_t count = 1;
      for (const auto& d : sh->as_array()) {
        if (d.type() != json::Value::Type::Int || d.as_int() < 0) bad("shape entries must be non-negative integers");
        uint64_t dim = uint64_t(d.as_int());
        if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 8 / dim) bad("shape too large");
        count *= dim;
        t.shape.push_back(d.as_int());
      }
      const auto& o = off->as_array();
      for (const auto& x : o)
        if (x.type() != json::Value::Type::Int || x.as_int() < 0) bad("data_offsets must be non-negative integers");
      uint64_t b = uint64_t(o[0].as_int()), en = uint64_t(o[1].as_int());
      if (b > en) bad(str("data_offsets [", b, ", ", en, "] are reversed"));
      if (en > data_size)
        bad(str("data_offsets [", b, ", ", en, "] lie outside the data (", data_size,
                " bytes): the file is truncated or corrupt"));
      if (en - b != count * esize)
        bad(str("holds ", en - b, " bytes but dtype ", t.dtype, " x shape needs ", count * esize));
      t.data = data + b;
      t.bytes = size_t(en - b);
      ranges.emplace_back(b, en);
      if (!tensors_.emplace(name, std::move(t)).second) bad("appears twice in the header");
    }
    // The format requires the tensors to tile the data buffer: no overlap, no gap, no tail.
    std::sort(ranges.begin(), ranges.end());
    uint64_t pos = 0;
    for (const auto& [b, en] : ranges) {
      if (b < pos) fail(path, ": corrupt safetensors file: tensor data ranges overlap at byte ", b);
      if (b > pos) fail(path, ": corrupt safetensors file: gap in tensor data at bytes [", pos, ", ", b, ")");
      pos = en;
    }
    if (pos != data_size)
      fail(path, ": corrupt safetensors file: tensors cover ", pos, " of ", data_size, " data bytes");
  } catch (...) {
    ::munmap(base_, size_);
    base_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (base_) ::munmap(base_, size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace esm::embed

namespace esm::embed {

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors, size_t align,
                       bool overwrite) {
  json::Value header = json::Object{};
  header["__metadata__"] = json::Object{{"format", "pt"}};
  uint64_t pos = 0;
  for (const auto& t : tensors) {
    json::Value e = json::Object{};
    e["dtype"] = t.dtype;
    json::Array shape;
    for (int64_t d : t.shape) shape.push_back(json::Value(d));
    e["shape"] = shape;
    e["data_offsets"] = json::Array{json::Value(pos), json::Value(pos + t.bytes.size())};
    header[t.name] = e;
    pos += t.bytes.size();
  }
  std::string text = header.dump();
  if (align > 1)
    while ((8 + text.size()) % align) text += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  out += text;
  for (const auto& t : tensors) out += t.bytes;
  write_file_atomic(path, out, overwrite);
}

}  // namespace esm::embed
