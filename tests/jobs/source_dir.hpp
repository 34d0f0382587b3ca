// The source tree the tests read shipped files from: $ESMPIPE_SOURCE_DIR, else the tree this
// test binary was configured from (gtest_discover_tests may not pass the whole environment).
#pragma once
#include <cstdlib>

inline const char* source_dir() {
  const char* env = std::getenv("ESMPIPE_SOURCE_DIR");
  return env && *env ? env : ESMPIPE_TEST_SOURCE_DIR;
}
