// Where `esmpipe embed` gets the residues of the sequences in the batch a rank is handed, without
// any rank holding the residues of the whole input (the length pass keeps only each record's
// uncompressed byte offset and length).
//
// Plain FASTA: the record is parsed again at its offset (one small read per record; plain files
// seek for free). Compressed FASTA cannot be entered at an arbitrary record cheaply (a gzip
// restart point is up to 4 MiB of inflate away, a single-frame zstd file has only one), so the
// length pass stages the residues in a scratch file beside the store, written with MPI-IO by
// every rank: the residues of the record whose '>' is at uncompressed offset o are stored at
// byte o of the stage (they are shorter than the record, so ranks never overlap). The stage is
// as large as the uncompressed input, lives in the store's directory (which every rank can
// reach, as parallel HDF5 needs) and is deleted when the run ends.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>

namespace esm::store {

class ResidueSource {
 public:
  // Collective. stage_path: the scratch file's name, the same on every rank (compressed input only).
  ResidueSource(const std::string& fasta, const std::string& stage_path, MPI_Comm comm);
  ~ResidueSource();  // a run that ends by an error: rank 0 removes the stage
  ResidueSource(const ResidueSource&) = delete;
  ResidueSource& operator=(const ResidueSource&) = delete;

  bool staged() const { return staged_; }
  // Length pass: this rank's next record (policy applied), in input order. No-op for plain input.
  void add(uint64_t offset, const std::string& residues);
  // Collective: after the length pass, before any fetch; the stage becomes readable by all ranks.
  void seal();
  // Residues of the record whose '>' is at `offset`. At least the first `kept` are returned
  // (all of them for plain input); throws if the record is not what the length pass saw.
  std::string fetch(uint64_t offset, uint32_t kept);
  // Collective: closes and deletes the stage.
  void close();
  // Not collective, for a run that is about to abort: rank 0 removes the stage by name.
  void abandon();

 private:
  void flush();
  std::string fasta_, stage_path_;
  MPI_Comm comm_;
  bool staged_ = false, open_ = false;
  MPI_File fh_ = MPI_FILE_NULL;
  std::string buf_;     // staged bytes not yet written
  uint64_t buf_at_ = 0; // stage offset of buf_[0]
};

}  // namespace esm::store
