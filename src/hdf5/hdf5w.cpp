#include "hdf5/hdf5w.hpp"

#include <mutex>

#include "core/error.hpp"
#include "hdf5/zstd_filter.h"

namespace esm::h5 {
namespace {

// Collects the error stack, innermost (the real cause) last, as "major: minor (func)" lines.
herr_t collect(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::string*>(data);
  char maj[128] = "", min[128] = "";
  H5Eget_msg(e->maj_num, nullptr, maj, sizeof maj);
  H5Eget_msg(e->min_num, nullptr, min, sizeof min);
  if (!out->empty()) *out += "; ";
  *out += e->desc && *e->desc ? e->desc : min;
  if (*min && e->desc && std::string(e->desc) != min) *out += str(" (", min, ")");
  return 0;
}

[[noreturn]] void throw_stack(const std::string& what) {
  std::string stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &stack);
  H5Eclear2(H5E_DEFAULT);
  fail(what, stack.empty() ? "" : ": HDF5: ", stack);
}

}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (H5Zfilter_avail(ESM_H5Z_ZSTD_ID) <= 0) check_status(H5Zregister(&esm_h5z_zstd_class), "registering the zstd filter");
  });
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw_stack(what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw_stack(what);
}

void Id::reset() {
  if (id_ < 0) return;
  hid_t id = std::exchange(id_, H5I_INVALID_HID);
  switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
  }
  H5Eclear2(H5E_DEFAULT);  // a close in a destructor must not leave a stale stack behind
}

void Id::close(const std::string& what) {
  if (id_ < 0) return;
  hid_t id = std::exchange(id_, H5I_INVALID_HID);
  herr_t st = 0;
  switch (H5Iget_type(id)) {
    case H5I_FILE: st = H5Fclose(id); break;
    case H5I_DATASET: st = H5Dclose(id); break;
    default: Id tmp(id); return;
  }
  check_status(st, what);
}

Id half_type() {
  // binary16: sign bit 15, exponent bits 10..14 (bias 15), mantissa bits 0..9.
  Id t(H5Tcopy(H5T_IEEE_F32LE), "half type");
  check_status(H5Tset_fields(t, 15, 10, 5, 0, 10), "half type fields");
  check_status(H5Tset_size(t, 2), "half type size");
  check_status(H5Tset_precision(t, 16), "half type precision");
  check_status(H5Tset_ebias(t, 15), "half type bias");
  return t;
}

Id utf8_string_type() {
  Id t(H5Tcopy(H5T_C_S1), "string type");
  check_status(H5Tset_size(t, H5T_VARIABLE), "string type size");
  check_status(H5Tset_cset(t, H5T_CSET_UTF8), "string type charset");
  return t;
}

bool exists(hid_t loc, const std::string& path) {
  size_t pos = 0;
  while (true) {
    size_t next = path.find('/', pos + 1);
    std::string prefix = path.substr(0, next);
    if (!prefix.empty() && prefix != "/") {
      htri_t r = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
      if (r <= 0) { H5Eclear2(H5E_DEFAULT); return false; }
    }
    if (next == std::string::npos) return true;
    pos = next;
  }
}

Id create_group(hid_t loc, const std::string& name) {
  return Id(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating group " + name);
}

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  // Variable-length UTF-8: h5py returns str (fixed-length strings come back as bytes).
  Id type = utf8_string_type();
  Id space(H5Screate(H5S_SCALAR), "attribute space");
  if (H5Aexists(obj, name.c_str()) > 0) check_status(H5Adelete(obj, name.c_str()), "replacing attribute " + name);
  Id a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute " + name);
  const char* p = value.c_str();
  check_status(H5Awrite(a, type, &p), "writing attribute " + name);
}

void write_attr(hid_t obj, const std::string& name, int64_t value) {
  Id space(H5Screate(H5S_SCALAR), "attribute space");
  if (H5Aexists(obj, name.c_str()) > 0) {
    Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name);
    check_status(H5Awrite(a, H5T_NATIVE_INT64, &value), "writing attribute " + name);
    return;
  }
  Id a(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute " + name);
  check_status(H5Awrite(a, H5T_NATIVE_INT64, &value), "writing attribute " + name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& name) {
  Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "reading attribute " + name);
  Id type(H5Aget_type(a), "attribute type");
  if (H5Tget_class(type) != H5T_STRING) fail("attribute ", name, " is not a string");
  if (H5Tis_variable_str(type) > 0) {
    char* p = nullptr;
    Id mt(H5Tcopy(type), "string type");  // same charset: HDF5 does not convert ASCII <-> UTF-8
    check_status(H5Aread(a, mt, &p), "reading attribute " + name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  size_t n = H5Tget_size(type);
  std::string s(n, '\0');
  check_status(H5Aread(a, type, s.data()), "reading attribute " + name);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

int64_t read_attr_int(hid_t obj, const std::string& name) {
  Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "reading attribute " + name);
  int64_t v = 0;
  check_status(H5Aread(a, H5T_NATIVE_INT64, &v), "reading attribute " + name);
  return v;
}

std::vector<uint64_t> dims(hid_t dataset) {
  Id space(H5Dget_space(dataset), "dataset space");
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> d(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  return {d.begin(), d.end()};
}

namespace {
template <typename T>
std::vector<T> read_1d(hid_t file, const std::string& path, hid_t mem_type) {
  Id d(H5Dopen2(file, path.c_str(), H5P_DEFAULT), "opening " + path);
  auto n = dims(d);
  if (n.size() != 1) fail(path, " is not one-dimensional");
  std::vector<T> v(n[0]);
  if (!v.empty()) check_status(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "reading " + path);
  return v;
}
}  // namespace

std::vector<int64_t> read_int64(hid_t f, const std::string& p) { return read_1d<int64_t>(f, p, H5T_NATIVE_INT64); }
std::vector<int32_t> read_int32(hid_t f, const std::string& p) { return read_1d<int32_t>(f, p, H5T_NATIVE_INT32); }
std::vector<uint8_t> read_uint8(hid_t f, const std::string& p) { return read_1d<uint8_t>(f, p, H5T_NATIVE_UINT8); }

std::vector<std::string> read_strings(hid_t file, const std::string& path) {
  Id type = utf8_string_type();
  std::vector<char*> raw = read_1d<char*>(file, path, type);
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (char* p : raw) out.emplace_back(p ? p : "");
  Id d(H5Dopen2(file, path.c_str(), H5P_DEFAULT), "opening " + path);
  Id space(H5Dget_space(d), "dataset space");
  if (!raw.empty()) H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
  return out;
}

Id file_slab(hid_t dataset, uint64_t start, uint64_t count) {
  Id space(H5Dget_space(dataset), "dataset space");
  int rank = H5Sget_simple_extent_ndims(space);
  hsize_t d[2] = {0, 0};
  H5Sget_simple_extent_dims(space, d, nullptr);
  hsize_t s[2] = {start, 0}, c[2] = {count, rank == 2 ? d[1] : 1};
  if (count == 0) check_status(H5Sselect_none(space), "empty selection");
  else check_status(H5Sselect_hyperslab(space, H5S_SELECT_SET, s, nullptr, c, nullptr), "selecting rows");
  return space;
}

Id mem_space(uint64_t count, uint64_t cols) {
  hsize_t d[2] = {count, cols};
  Id s(H5Screate_simple(cols ? 2 : 1, d, nullptr), "memory space");
  if (count == 0) H5Sselect_none(s);
  return s;
}

}  // namespace esm::h5
