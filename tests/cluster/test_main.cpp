// GoogleTest main that opens the MPI session first: the clustering code uses esm::mpi
// collectives, which run on one rank here (the multi-rank behaviour is tested via mpirun).
#include <gtest/gtest.h>

#include "core/mpi_env.hpp"

int main(int argc, char** argv) {
  esm::mpi::Session session(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
