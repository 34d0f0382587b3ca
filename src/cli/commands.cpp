#include "commands.hpp"

// Entry points live in their modules; declared here so the table is the one place to look.
namespace esm {
int cmd_index(int argc, char** argv);
int cmd_stats(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_show(int argc, char** argv);
int cmd_preprocess(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_cluster(int argc, char** argv);
int cmd_filter(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_submit(int argc, char** argv);
int cmd_status(int argc, char** argv);
}  // namespace esm

namespace esm::cli {

namespace {
const Command kCommands[] = {
    {"version", "print the version", nullptr},
    {"stats", "FASTA statistics: records, residues, length distribution, N50, residue histogram (MPI)", esm::cmd_stats},
    {"index", "write FILE.esmidx restart points so ranks read a .gz/.zst FASTA in parallel", esm::cmd_index},
    {"embed", "ESM-2 embeddings of a FASTA into one parallel HDF5 store (resumable)", esm::cmd_embed},
    {"show", "summarise an embedding store or print one sequence's vectors", esm::cmd_show},
    {"preprocess", "UniRef50/90 to ESM-2nv pretraining files: validation split, identity filter, crop (MPI)", esm::cmd_preprocess},
    {"sample", "one epoch of training sequences from a preprocess output (a member per cluster)", esm::cmd_sample},
    {"filter", "remove train sequences >= 50% identical to validation ones (MMseqs2 semantics, MPI)", esm::cmd_filter},
    {"cluster", "linear-time clustering of protein sequences (MMseqs2 linclust style), over MPI ranks", esm::cmd_cluster},
    {"run", "run a job file's stages on this machine with mpirun, skipping finished ones", esm::cmd_run, false},
    {"submit", "submit a job file's stages to Slurm as a chain of sbatch jobs", esm::cmd_submit, false},
    {"status", "state of a job's stages (outputs, Slurm) and a running embed's progress", esm::cmd_status, false},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace esm::cli
