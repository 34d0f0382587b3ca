// Thin RAII wrappers over the HDF5 C API. Every call that can fail goes through check(), which
// turns HDF5's error stack into an esm::Error naming what we were doing and the file.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace esm::h5 {

// Silences HDF5's own stderr printing (we report through esm::Error) and registers the zstd
// filter (id 32015) in this process. Idempotent; call before any other HDF5 use.
void init();

// Throws esm::Error("<what>: <innermost HDF5 messages>") when id/status is negative.
hid_t check(hid_t id, const std::string& what);
void check_status(herr_t status, const std::string& what);

// Owns one HDF5 identifier of any kind (file, group, dataset, dataspace, type, plist, attribute)
// and closes it with the matching H5?close.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  Id(hid_t id, const std::string& what) : id_(check(id, what)) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Id& operator=(Id&& o) noexcept {
    if (this != &o) { reset(); id_ = std::exchange(o.id_, H5I_INVALID_HID); }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports a failure (a file close flushes, so it can fail).
  void close(const std::string& what);
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// File types used by the store.
Id half_type();         // IEEE 754 binary16, little endian: h5py reads it as numpy float16
Id utf8_string_type();  // variable-length UTF-8 string

bool exists(hid_t loc, const std::string& path);  // every component of path exists
Id create_group(hid_t loc, const std::string& name);

// Attributes (scalar).
void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, int64_t value);
bool has_attr(hid_t obj, const std::string& name);
std::string read_attr_string(hid_t obj, const std::string& name);
int64_t read_attr_int(hid_t obj, const std::string& name);

// 1-D helpers for whole small datasets (read and written by one process).
std::vector<int64_t> read_int64(hid_t file, const std::string& path);
std::vector<int32_t> read_int32(hid_t file, const std::string& path);
std::vector<uint8_t> read_uint8(hid_t file, const std::string& path);
std::vector<std::string> read_strings(hid_t file, const std::string& path);
std::vector<uint64_t> dims(hid_t dataset);

// A hyperslab [start, start+count) x [0, cols) of a 1-D (cols = 0) or 2-D dataset.
Id file_slab(hid_t dataset, uint64_t start, uint64_t count);
Id mem_space(uint64_t count, uint64_t cols);  // cols 0: 1-D

}  // namespace esm::h5
