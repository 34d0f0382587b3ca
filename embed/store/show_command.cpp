// esmpipe show STORE [--id ID] [--layer K]: what a store holds, or one sequence's vectors.
// Lookup by ID is a binary search over /index/sorted_id that reads O(log N) single elements.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "hdf5/hdf5w.hpp"
#include "store/store_file.hpp"

namespace esm {
namespace {

std::string read_string_at(hid_t d, hid_t type, uint64_t i) {
  h5::Id fs = h5::file_slab(d, i, 1);
  h5::Id ms = h5::mem_space(1, 0);
  char* p = nullptr;
  h5::check_status(H5Dread(d, type, ms, fs, H5P_DEFAULT, &p), "reading /index/sorted_id");
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

template <typename T>
T read_at(hid_t file, const char* path, hid_t mem_type, uint64_t i) {
  h5::Id d(H5Dopen2(file, path, H5P_DEFAULT), str("opening ", path));
  h5::Id fs = h5::file_slab(d, i, 1);
  h5::Id ms = h5::mem_space(1, 0);
  T v{};
  h5::check_status(H5Dread(d, mem_type, ms, fs, H5P_DEFAULT, &v), str("reading ", path));
  return v;
}

// Row of `id` in input order, or -1.
int64_t find_row(hid_t file, const std::string& id) {
  h5::Id d(H5Dopen2(file, "/index/sorted_id", H5P_DEFAULT), "opening /index/sorted_id");
  h5::Id type = h5::utf8_string_type();
  uint64_t lo = 0, hi = h5::dims(d).at(0);
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (read_string_at(d, type, mid) < id) lo = mid + 1;
    else hi = mid;
  }
  if (lo == h5::dims(d)[0] || read_string_at(d, type, lo) != id) return -1;
  return read_at<int64_t>(file, "/index/row", H5T_NATIVE_INT64, lo);
}

std::vector<std::string> layer_names(hid_t file) {
  std::vector<std::string> out;
  if (!h5::exists(file, "/layers")) return out;
  h5::Id g(H5Gopen2(file, "/layers", H5P_DEFAULT), "opening /layers");
  H5G_info_t info;
  h5::check_status(H5Gget_info(g, &info), "listing /layers");
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    char name[64] = "";
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    out.emplace_back(name);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
  return out;
}

void print_rows(const char* label, const std::vector<float>& v, uint64_t rows, uint64_t cols) {
  for (uint64_t r = 0; r < rows; ++r) {
    std::printf("%s", label);
    if (rows > 1) std::printf("\t%llu", static_cast<unsigned long long>(r));
    for (uint64_t c = 0; c < cols; ++c) std::printf("\t%.8g", v[r * cols + c]);
    std::printf("\n");
  }
}

std::vector<float> read_rows(hid_t file, const std::string& path, uint64_t start, uint64_t count, uint64_t* cols) {
  h5::Id d(H5Dopen2(file, path.c_str(), H5P_DEFAULT), "opening " + path);
  auto dims = h5::dims(d);
  *cols = dims.size() == 2 ? dims[1] : 1;
  std::vector<float> v(count * *cols);
  if (count == 0) return v;
  h5::Id fs = h5::file_slab(d, start, count);
  h5::Id ms = h5::mem_space(count, dims.size() == 2 ? dims[1] : 0);
  h5::check_status(H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, v.data()), "reading " + path);
  return v;
}

}  // namespace

int cmd_show(int argc, char** argv) {
  std::string path, id;
  int layer = -1;
  cli::po::options_description opts("show options");
  opts.add_options()
      ("store", cli::po::value(&path)->required(), "the HDF5 store")
      ("id", cli::po::value(&id), "print this sequence's vectors (tab-separated)")
      ("layer", cli::po::value(&layer)->default_value(-1), "layer to print with --id (-1: the highest stored)");
  cli::po::positional_options_description pos;
  pos.add("store", 1);
  cli::po::variables_map vm;
  if (!cli::parse(argc, argv, {"show", "esmpipe show STORE [--id ID] [--layer K]", "Summarise an embedding store or print one sequence's vectors."},
                  opts, pos, vm))
    return kExitOk;
  if (mpi::rank() != 0) return kExitOk;
  h5::init();
  if (!std::filesystem::exists(path)) fail(path, ": no such file");
  h5::Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path + ": not a readable HDF5 file");
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != store::kFormat)
    fail(path, ": not an esmpipe embedding store (no format = ", store::kFormat, " attribute)");
  auto layers = layer_names(f);

  if (id.empty()) {
    auto done = h5::read_uint8(f, "/sequences/done");
    auto offset = h5::read_int64(f, "/sequences/offset");
    uint64_t ndone = std::count(done.begin(), done.end(), 1);
    bool complete = h5::read_attr_int(f, "complete") == 1;
    std::string layer_list;
    for (const auto& l : layers) {
      std::string what;
      if (h5::exists(f, "/layers/" + l + "/per_residue")) what += "per_residue";
      if (h5::exists(f, "/layers/" + l + "/mean")) what += what.empty() ? "mean" : "+mean";
      layer_list += str(layer_list.empty() ? "" : ", ", l, " (", what, ")");
    }
    struct stat st{};
    ::stat(path.c_str(), &st);
    std::cout << "store         " << path << "\n"
              << "format        " << h5::read_attr_string(f, "format") << " v" << h5::read_attr_int(f, "format_version") << "\n"
              << "model         " << h5::read_attr_string(f, "model_name") << " (" << h5::read_attr_int(f, "num_layers")
              << " layers, hidden " << h5::read_attr_int(f, "hidden_size") << ")\n"
              << "model_sha256  " << h5::read_attr_string(f, "model_sha256") << "\n"
              << "sequences     " << done.size() << " (" << ndone << " done)\n"
              << "residues      " << (offset.empty() ? 0 : offset.back()) << " (max_residues "
              << h5::read_attr_int(f, "max_residues") << ")\n"
              << "complete      " << (complete ? "yes" : ndone == done.size() ? "no (all done, run not finalised)" : "no: rerun embed with --resume") << "\n"
              << "dtype         " << h5::read_attr_string(f, "dtype") << "\n"
              << "layers        " << layer_list << "\n"
              << "logits        " << (h5::exists(f, "/logits") ? "yes" : "no") << "\n"
              << "contacts      " << (h5::exists(f, "/contacts/data") ? "yes" : "no") << "\n"
              << "compression   " << (h5::has_attr(f, "compression") ? h5::read_attr_string(f, "compression") : "?") << "\n"
              << "size          " << human_bytes(double(st.st_size)) << " (" << st.st_size << " bytes)\n"
              << "input         " << h5::read_attr_string(f, "input_path") << "\n"
              << "created       " << h5::read_attr_string(f, "created") << " by esmpipe " << h5::read_attr_string(f, "tool_version") << "\n";
    return kExitOk;
  }

  int64_t row = find_row(f, id);
  if (row < 0) fail(path, ": no sequence with ID '", id, "'");
  if (layers.empty()) fail(path, ": holds no layer datasets");
  std::string k = layer < 0 ? layers.back() : std::to_string(layer);
  if (std::find(layers.begin(), layers.end(), k) == layers.end())
    fail(path, ": layer ", k, " is not stored (stored: ", [&] { std::string s; for (auto& l : layers) s += l + " "; return s; }(), ")");
  auto start = read_at<int64_t>(f, "/sequences/offset", H5T_NATIVE_INT64, row);
  auto len = read_at<int32_t>(f, "/sequences/length", H5T_NATIVE_INT32, row);
  bool is_done = read_at<uint8_t>(f, "/sequences/done", H5T_NATIVE_UINT8, row) == 1;
  std::printf("# id %s row %lld length %d layer %s%s\n", id.c_str(), static_cast<long long>(row), len, k.c_str(),
              is_done ? "" : " NOT YET WRITTEN (values are not valid)");
  uint64_t cols = 0;
  if (h5::exists(f, "/layers/" + k + "/mean")) {
    auto v = read_rows(f, "/layers/" + k + "/mean", row, 1, &cols);
    print_rows("mean", v, 1, cols);
  }
  if (h5::exists(f, "/layers/" + k + "/per_residue")) {
    auto v = read_rows(f, "/layers/" + k + "/per_residue", start, len, &cols);
    print_rows("residue", v, len, cols);
  }
  return kExitOk;
}

}  // namespace esm
