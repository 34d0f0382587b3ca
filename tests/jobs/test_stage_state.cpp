// Stage states read from outputs: preprocess manifests and embedding stores made here by hand.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.hpp"
#include "hdf5/hdf5w.hpp"
#include "job.hpp"
#include "stage_state.hpp"

namespace fs = std::filesystem;
using esm::jobs::State;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("esm_jobs_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

esm::jobs::Job job_in(const fs::path& dir) {
  std::string text = "[job]\nname = s\nworkdir = " + dir.string() +
                     "\n[preprocess]\nuniref50 = u50\nout = ${job.workdir}/pre\nseed = 3\nval-size = 40\n"
                     "[embed]\nmodel = m\nfasta = ${preprocess.out}/uniref50_valid.fasta\nout = ${job.workdir}/e.h5\n"
                     "dtype = float32\n";
  return esm::jobs::parse_job(text, (dir / "s.ini").string());
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

// A store as embed lays it out, as far as state and progress go.
void make_store(const std::string& path, const std::string& input, const std::vector<uint8_t>& done,
                const std::vector<int32_t>& length, int complete, const char* dtype = "float32") {
  esm::h5::init();
  esm::h5::Id f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  esm::h5::write_attr(f, "complete", int64_t(complete));
  esm::h5::write_attr(f, "input_path", input);
  esm::h5::write_attr(f, "dtype", std::string(dtype));
  esm::h5::write_attr(f, "max_residues", int64_t(1022));
  esm::h5::Id g(H5Gcreate2(f, "/sequences", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group");
  hsize_t n = done.size();
  esm::h5::Id space(H5Screate_simple(1, &n, nullptr), "space");
  esm::h5::Id d(H5Dcreate2(f, "/sequences/done", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "done");
  H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done.data());
  esm::h5::Id l(H5Dcreate2(f, "/sequences/length", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "len");
  H5Dwrite(l, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, length.data());
}

}  // namespace

TEST(StageState, PreprocessFromItsManifest) {
  TempDir t;
  auto job = job_in(t.path);
  const auto& pre = job.stages[0];
  EXPECT_EQ(esm::jobs::inspect_stage(pre).state, State::Missing);
  fs::create_directories(pre.out);
  write(fs::path(pre.out) / "uniref50_valid.fasta.partial", ">a\nM\n");
  EXPECT_EQ(esm::jobs::inspect_stage(pre).state, State::Partial);  // started, no manifest
  write(fs::path(pre.out) / "manifest.json.partial",
        R"({"state": "running", "stages": {"read": {"done": true}, "validation": {"done": true}}})");
  auto running = esm::jobs::inspect_stage(pre);
  EXPECT_EQ(running.state, State::Partial);
  EXPECT_EQ(running.detail, "unfinished; stages done: read, validation");
  write(fs::path(pre.out) / "manifest.json", R"({"state": "running", "parameters": {"seed": 3}})");
  EXPECT_EQ(esm::jobs::inspect_stage(pre).state, State::Partial);
  write(fs::path(pre.out) / "uniref50_valid.fasta", ">a\nM\n");
  write(fs::path(pre.out) / "manifest.json",
        R"({"state": "complete", "parameters": {"seed": 3, "val_size": 40, "max_residues": 1023},
            "outputs": [{"path": "uniref50_valid.fasta", "size": 5}]})");
  auto st = esm::jobs::inspect_stage(pre);
  EXPECT_EQ(st.state, State::Done) << st.detail;
  // An output that changed or went missing since: not done.
  write(fs::path(pre.out) / "uniref50_valid.fasta", ">a\nMK\n");
  st = esm::jobs::inspect_stage(pre);
  EXPECT_EQ(st.state, State::Partial);
  EXPECT_NE(st.detail.find("changed size"), std::string::npos) << st.detail;
  fs::remove(fs::path(pre.out) / "uniref50_valid.fasta");
  EXPECT_EQ(esm::jobs::inspect_stage(pre).state, State::Partial);
  // Finished with another seed: a mismatch, never silently reused.
  write(fs::path(pre.out) / "manifest.json", R"({"state": "complete", "parameters": {"seed": 4, "val_size": 40}})");
  st = esm::jobs::inspect_stage(pre);
  EXPECT_EQ(st.state, State::Mismatch);
  EXPECT_EQ(st.detail, "finished with other parameters: seed is 4 in the manifest, 3 in the job");
  write(fs::path(pre.out) / "manifest.json", "{not json");
  EXPECT_EQ(esm::jobs::inspect_stage(pre).state, State::Partial);
}

TEST(StageState, EmbedFromTheStore) {
  TempDir t;
  auto job = job_in(t.path);
  const auto& emb = job.stages[1];
  EXPECT_EQ(esm::jobs::inspect_stage(emb).state, State::Missing);
  make_store(emb.out, emb.input, {1, 0, 1, 0}, {10, 20, 30, 40}, 0);
  auto st = esm::jobs::inspect_stage(emb);
  EXPECT_EQ(st.state, State::Partial) << st.detail;
  EXPECT_EQ(st.seqs_done, 2u);
  EXPECT_EQ(st.seqs_total, 4u);
  EXPECT_EQ(st.tokens_done, 12u + 32u);  // residues + CLS + EOS
  EXPECT_EQ(st.tokens_total, 12u + 22u + 32u + 42u);
  make_store(emb.out, emb.input, {1, 1, 1, 1}, {10, 20, 30, 40}, 0);
  EXPECT_EQ(esm::jobs::inspect_stage(emb).state, State::Partial) << "all rows but not marked complete";
  make_store(emb.out, emb.input, {1, 1, 1, 1}, {10, 20, 30, 40}, 1);
  EXPECT_EQ(esm::jobs::inspect_stage(emb).state, State::Done);
  make_store(emb.out, emb.input, {1, 1, 1, 1}, {10, 20, 30, 40}, 1, "float16");
  st = esm::jobs::inspect_stage(emb);
  EXPECT_EQ(st.state, State::Mismatch);
  EXPECT_EQ(st.detail, "store made by another run: dtype is float16 in the store, float32 in the job");
  make_store(emb.out, "/elsewhere.fasta", {1, 1, 1, 1}, {10, 20, 30, 40}, 1);
  EXPECT_EQ(esm::jobs::inspect_stage(emb).state, State::Mismatch);
  // Not an HDF5 file (a crash before the structure was written): partial, not done.
  write(emb.out, "garbage");
  st = esm::jobs::inspect_stage(emb);
  EXPECT_EQ(st.state, State::Partial);
  EXPECT_FALSE(st.has_progress);
}
