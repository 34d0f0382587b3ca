#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

TEST(AtomicFile, NothingUnderFinalNameUntilCommit) {
  auto dir = fs::temp_directory_path() / "esm_atomic_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto out = dir / "out.txt";
  {
    esm::AtomicFile f(out, false);
    f.stream() << "hello";
    EXPECT_FALSE(fs::exists(out));
    EXPECT_TRUE(fs::exists(f.temp_path()));
  }  // not committed: removed
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(esm::partial_path(out)));
  {
    esm::AtomicFile f(out, false);
    f.stream() << "hello";
    f.commit();
  }
  EXPECT_EQ(esm::read_file(out), "hello");
  EXPECT_THROW(esm::AtomicFile(out, false), esm::Error);  // refuses to overwrite
  esm::write_file_atomic(out, "again", true);
  EXPECT_EQ(esm::read_file(out), "again");
}
