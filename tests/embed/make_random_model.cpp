// Writes a random-weight ESM-2 checkpoint (HF layout) of a configs/models shape:
//   esm_make_random_model CARD.json OUT_DIR SEED [F32|F16|BF16]
// Used by make_reference_cases.py to give fair-esm exactly the weights the tests regenerate.
#include <cstdio>
#include <exception>
#include <string>

#include "encoder/model.hpp"
#include "encoder/random_model.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CARD.json OUT_DIR SEED [F32|F16|BF16]\n", argv[0]);
    return 2;
  }
  try {
    esm::embed::ModelCard card = esm::embed::read_model_card(argv[1]);
    esm::embed::write_random_model(argv[2], card.config, std::stoull(argv[3]), argc > 4 ? argv[4] : "F32");
    std::printf("%s\n", esm::embed::Model::load(argv[2])->weights_sha256().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esm_make_random_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
