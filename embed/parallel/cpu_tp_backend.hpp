// The CPU tensor-parallel backend: the reference forward with each layer split across the ranks
// of a TP group (tp_split.hpp) and MPI_Allreduce after the attention output and after the FFN.
// Slow like the reference (plain loops); its job is to prove the split that the CUDA backend
// runs over NCCL: TP=N must give the TP=1 (reference) result.
#pragma once
#include <memory>

#include "encoder/backend.hpp"
#include "parallel/tp_group.hpp"

namespace esm::embed::parallel {

// Collective semantics: every rank of group.comm calls forward() with the same batch; every rank
// returns the full outputs. The group (and its communicator) must outlive the backend.
std::unique_ptr<Backend> make_cpu_tp_backend(std::shared_ptr<const Model> model, const TpGroup& group);

}  // namespace esm::embed::parallel
