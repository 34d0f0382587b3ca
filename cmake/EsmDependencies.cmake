# Every external dependency is found here once; modules link the imported targets.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)

set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "esmpipe needs a parallel (MPI) build of HDF5; on Debian install libhdf5-openmpi-dev")
endif()
add_library(esm_hdf5 INTERFACE)
target_include_directories(esm_hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(esm_hdf5 INTERFACE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES})
target_compile_definitions(esm_hdf5 INTERFACE ${HDF5_C_DEFINITIONS} ${HDF5_DEFINITIONS})

find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

# A CPU BLAS for the encoder's GEMMs (OpenBLAS preferred for its threading).
set(BLA_VENDOR OpenBLAS)
find_package(BLAS)
if(NOT BLAS_FOUND)
  unset(BLA_VENDOR)
  find_package(BLAS REQUIRED)
endif()
find_path(CBLAS_INCLUDE_DIR NAMES cblas.h PATH_SUFFIXES openblas openblas-pthread REQUIRED)
add_library(esm_blas INTERFACE)
target_include_directories(esm_blas INTERFACE ${CBLAS_INCLUDE_DIR})
target_link_libraries(esm_blas INTERFACE ${BLAS_LIBRARIES})

find_package(GTest)
