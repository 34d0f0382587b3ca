// Linked into every GoogleTest binary: gives it the same environment CTest gives script tests
// (gtest_discover_tests cannot pass list-valued ENVIRONMENT properties), so a test binary also
// works when run by hand. Values already in the environment win.
#include <cstdlib>

namespace {
struct TestEnvironment {
  TestEnvironment() {
    setenv("ESMPIPE_SOURCE_DIR", ESMPIPE_TEST_SOURCE_DIR, 0);
    setenv("ESMPIPE_BINARY_DIR", ESMPIPE_TEST_BINARY_DIR, 0);
    setenv("ESMPIPE_EXE", ESMPIPE_TEST_EXE, 0);
    // Tests that start mpirun run as root in CI, often with more ranks than cores.
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0);
  }
} const test_environment;
}  // namespace
