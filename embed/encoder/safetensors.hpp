// One safetensors file, memory-mapped and validated: u64 LE header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Offsets are relative to the end of the header and must tile the data exactly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string>
#include <vector>

namespace esm::embed {

struct TensorInfo {
  std::string name;
  std::string dtype;            // F32, F16, BF16, I64, ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // into the mapping
  size_t bytes = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates the whole header; throws esm::Error naming the path and the problem.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  const uint8_t* bytes() const { return base_; }
  size_t size() const { return size_; }

 private:
  std::string path_;
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
};

// Bytes per element of a safetensors dtype name; 0 if unknown.
size_t dtype_size(const std::string& dtype);

// Converts n elements of dtype (F32/F16/BF16/F64) to float. Throws for other dtypes.
void convert_to_f32(const std::string& dtype, const uint8_t* src, size_t n, float* dst);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even

}  // namespace esm::embed

namespace esm::embed {

// A tensor to write: raw little-endian bytes in `dtype`.
struct TensorBytes {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes a safetensors file (tensors in the given order, header padded with spaces so the data
// starts at a multiple of `align` bytes; align 1 = no padding). Atomic (".partial" + rename).
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors, size_t align = 8,
                       bool overwrite = true);

}  // namespace esm::embed
