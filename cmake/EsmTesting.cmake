# Test helpers shared by every module's tests.
include(GoogleTest)
set(ESM_MPIRUN ${MPIEXEC_EXECUTABLE})
# mpirun refuses root and more ranks than cores unless told; CI runs as root on 2 cores.
set(ESM_MPIRUN_FLAGS --oversubscribe --bind-to none)
set(ESM_TEST_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;OMPI_MCA_btl_vader_single_copy_mechanism=none;ESMPIPE_SOURCE_DIR=${PROJECT_SOURCE_DIR};ESMPIPE_BINARY_DIR=${PROJECT_BINARY_DIR};ESMPIPE_EXE=$<TARGET_FILE:esmpipe>")

# The environment every GoogleTest binary starts with (tests/support/test_env.cpp).
add_library(esm_test_env OBJECT ${PROJECT_SOURCE_DIR}/tests/support/test_env.cpp)
target_compile_definitions(esm_test_env PRIVATE
  ESMPIPE_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  ESMPIPE_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}"
  ESMPIPE_TEST_EXE="${PROJECT_BINARY_DIR}/src/cli/esmpipe")

# esm_add_gtest(NAME SOURCES... LIBS ... [LABELS label]): a GoogleTest binary, each case a CTest
# test. One label only (default "unit"): gtest_discover_tests cannot carry list-valued properties.
function(esm_add_gtest name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES} $<TARGET_OBJECTS:esm_test_env>)
  target_link_libraries(${name} PRIVATE ${A_LIBS} GTest::gtest GTest::gtest_main)
  set(label unit)
  if(A_LABELS)
    list(GET A_LABELS 0 label)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS ${label} DISCOVERY_TIMEOUT 60)
endfunction()

# esm_add_mpi_test(NAME NP n COMMAND exe args... [LABELS ...]): runs COMMAND under mpirun -n n.
function(esm_add_mpi_test name)
  cmake_parse_arguments(A "" "NP;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${ESM_MPIRUN} ${ESM_MPIRUN_FLAGS} -n ${A_NP} ${A_COMMAND})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ESM_TEST_ENV}" LABELS "mpi;${A_LABELS}" TIMEOUT ${A_TIMEOUT})
endfunction()

# esm_add_script_test(NAME COMMAND ... [LABELS ...]): a shell-level test (CLI behaviour, references).
function(esm_add_script_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${A_COMMAND})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ESM_TEST_ENV}" LABELS "script;${A_LABELS}" TIMEOUT ${A_TIMEOUT})
endfunction()
