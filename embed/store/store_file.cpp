#include "store/store_file.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <numeric>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "hdf5/hdf5w.hpp"

namespace esm::store {
namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// A dataset of n elements (x cols), contiguous or chunked+zstd, allocated at creation so
// parallel writers never change the file's metadata in uncompressed mode.
h5::Id make_dataset(hid_t file, const std::string& path, hid_t type, uint64_t rows, uint64_t cols,
                    uint64_t chunk_rows, int zstd_level) {
  hsize_t d[2] = {rows, cols};
  h5::Id space(H5Screate_simple(cols ? 2 : 1, d, nullptr), "dataspace for " + path);
  h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE), "dataset properties");
  if (chunk_rows > 0) {
    hsize_t c[2] = {chunk_rows, cols};
    h5::check_status(H5Pset_chunk(dcpl, cols ? 2 : 1, c), "chunking " + path);
    unsigned level = static_cast<unsigned>(zstd_level);
    h5::check_status(H5Pset_filter(dcpl, 32015, H5Z_FLAG_MANDATORY, 1, &level), "zstd filter on " + path);
    // Chunks are written once each sequence is done; unwritten ones read as zeros.
    h5::check_status(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_INCR), "allocation time");
  } else {
    h5::check_status(H5Pset_layout(dcpl, H5D_CONTIGUOUS), "layout");
    h5::check_status(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY), "allocation time");
    // No fill pass over a multi-GB dataset: the space is reserved, the writers fill it, and
    // /sequences/done says which rows are valid.
    h5::check_status(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "fill time");
  }
  h5::Id lcpl(H5Pcreate(H5P_LINK_CREATE), "link properties");
  H5Pset_create_intermediate_group(lcpl, 1);
  return h5::Id(H5Dcreate2(file, path.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT), "creating " + path);
}

template <typename T>
void write_whole(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type, const std::vector<T>& v) {
  h5::Id d = make_dataset(file, path, file_type, v.size(), 0, 0, 0);
  if (!v.empty()) h5::check_status(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "writing " + path);
}

void write_strings(hid_t file, const std::string& path, const std::vector<std::string>& s) {
  h5::Id type = h5::utf8_string_type();
  hsize_t n = s.size();
  h5::Id space(H5Screate_simple(1, &n, nullptr), "dataspace for " + path);
  h5::Id lcpl(H5Pcreate(H5P_LINK_CREATE), "link properties");
  H5Pset_create_intermediate_group(lcpl, 1);
  h5::Id d(H5Dcreate2(file, path.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT), "creating " + path);
  std::vector<const char*> p(s.size());
  for (size_t i = 0; i < s.size(); ++i) p[i] = s[i].c_str();
  if (n) h5::check_status(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "writing " + path);
}

}  // namespace

void create_store(const std::string& path, const StoreMeta& meta, const Layout& L,
                  const std::vector<std::string>& ids) {
  h5::init();
  const std::string tmp = partial_path(path).string();
  {
    h5::Id fcpl(H5Pcreate(H5P_FILE_CREATE), "file creation properties");
    if (meta.options.zstd_level > 0) {
      // A write round rewrites compressed chunks at new addresses and frees the old ones. Were
      // freed space reused, a chunk written in a round could land where the on-disk chunk index
      // (last flushed a round earlier) still finds a chunk of done sequences, and a kill before
      // the round's flush would leave those sequences' values destroyed while done says 1. So
      // zstd stores never reuse file space; the cost is the superseded chunk copies
      // (docs/FORMATS.md: h5repack reclaims them).
      h5::check_status(H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0, 1), "file space strategy");
    }
    h5::Id f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), "creating " + tmp);
    h5::write_attr(f, "format", std::string(kFormat));
    h5::write_attr(f, "format_version", int64_t(kFormatVersion));
    h5::write_attr(f, "model_name", meta.model_name);
    h5::write_attr(f, "model_sha256", meta.model_sha256);
    h5::write_attr(f, "num_layers", int64_t(meta.num_layers));
    h5::write_attr(f, "hidden_size", int64_t(meta.hidden));
    h5::write_attr(f, "max_residues", int64_t(meta.options.max_residues));
    h5::write_attr(f, "dtype", meta.options.dtype());
    h5::write_attr(f, "complete", int64_t(0));
    h5::write_attr(f, "tool_version", std::string(tool_version()));
    h5::write_attr(f, "command_line", command_line());
    h5::write_attr(f, "created", utc_now());
    h5::write_attr(f, "input_path", meta.input_path);
    h5::write_attr(f, "input_sha256", meta.input_sha256);
    h5::write_attr(f, "options", meta.options.fingerprint());
    h5::write_attr(f, "compression", meta.options.zstd_level ? "zstd:" + std::to_string(meta.options.zstd_level) : std::string("none"));

    write_strings(f, "/sequences/id", ids);
    write_whole(f, "/sequences/length", H5T_STD_I32LE, H5T_NATIVE_INT32, L.length);
    write_whole(f, "/sequences/offset", H5T_STD_I64LE, H5T_NATIVE_INT64, L.offset);
    write_whole(f, "/sequences/done", H5T_STD_U8LE, H5T_NATIVE_UINT8, std::vector<uint8_t>(L.n, 0));

    // Lookup by ID: IDs in byte order (memcmp order, what std::string compares) and their rows.
    std::vector<int64_t> order(L.n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
    std::vector<std::string> sorted(L.n);
    for (uint64_t i = 0; i < L.n; ++i) sorted[i] = ids[order[i]];
    write_strings(f, "/index/sorted_id", sorted);
    write_whole(f, "/index/row", H5T_STD_I64LE, H5T_NATIVE_INT64, order);

    h5::Id half = h5::half_type();
    for (const auto& d : L.datasets) {
      hid_t type = d.half ? hid_t(half) : H5T_IEEE_F32LE;
      make_dataset(f, d.path, type, d.rows, d.cols, d.chunk_rows, meta.options.zstd_level);
    }
    if (meta.options.contacts)
      write_whole(f, "/contacts/offset", H5T_STD_I64LE, H5T_NATIVE_INT64, L.contact_offset);
    f.close("closing " + tmp);
  }
  commit_partial(path);
}

std::vector<uint8_t> check_resumable(const std::string& path, const StoreMeta& meta, const Layout& L,
                                     bool* complete) {
  h5::init();
  h5::Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
           str("cannot resume ", path, ": not a readable HDF5 store (remove it or use --overwrite)"));
  auto refuse = [&](const std::string& what, const std::string& store_value, const std::string& ours) {
    fail("cannot resume ", path, ": its ", what, " is ", store_value, " but this run's is ", ours,
         " (use --overwrite to start a new store, or rerun with the original settings)");
  };
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != kFormat)
    fail("cannot resume ", path, ": not an esmpipe embedding store");
  int64_t version = h5::read_attr_int(f, "format_version");
  if (version != kFormatVersion) refuse("format_version", std::to_string(version), std::to_string(kFormatVersion));
  std::string v = h5::read_attr_string(f, "model_sha256");
  if (v != meta.model_sha256) refuse("model (weights sha256)", v, meta.model_sha256);
  v = h5::read_attr_string(f, "input_sha256");
  if (v != meta.input_sha256) refuse("input (sha256 of IDs and residues)", v, meta.input_sha256);
  v = h5::read_attr_string(f, "options");
  if (v != meta.options.fingerprint()) refuse("option set", "'" + v + "'", "'" + meta.options.fingerprint() + "'");
  auto length = h5::read_int32(f, "/sequences/length");
  if (length != L.length) fail("cannot resume ", path, ": its /sequences/length differs from this input's");
  for (const auto& d : L.datasets)
    if (!h5::exists(f, d.path)) fail("cannot resume ", path, ": dataset ", d.path, " is missing");
  auto done = h5::read_uint8(f, "/sequences/done");
  if (done.size() != L.n) fail("cannot resume ", path, ": /sequences/done has ", done.size(), " entries, expected ", L.n);
  *complete = h5::read_attr_int(f, "complete") == 1;
  return done;
}

void mark_complete(const std::string& path, bool complete, const std::string& run_note) {
  h5::init();
  h5::Id f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "reopening " + path);
  h5::write_attr(f, "complete", int64_t(complete ? 1 : 0));
  h5::write_attr(f, "last_run", run_note);
  f.close("closing " + path);
}

}  // namespace esm::store
