#!/usr/bin/env bash
# The README's demo command: install what is missing, build, then run jobs/demo.ini (the whole
# pipeline on the bundled sample, 2 MPI ranks, CPU) and show what it made. Rerunning skips the
# stages that are already done (their manifests say so); delete demo-out/ to start over.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" demo
"$root/scripts/build.sh"
cd "$root"
exe="$root/build/src/cli/esmpipe"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "== esmpipe demo: preprocess the bundled mini-UniRef release, then embed its validation set"
echo "== NOTE: the demo model (data/golden/esm2-public) has RANDOM weights: the embeddings show the"
echo "==       mechanics only; point jobs/*.ini at a released ESM-2 checkpoint for real ones."
"$exe" run jobs/demo.ini "$@"

echo
echo "== preprocess outputs (demo-out/preprocess):"
ls -l demo-out/preprocess
echo
echo "== first train clusters (mapping.tsv):"
head -n 4 demo-out/preprocess/mapping.tsv | cut -c1-120
echo
echo "== training FASTA statistics:"
"$exe" stats demo-out/preprocess/uniref50_train_filt.fasta --log-level warn
echo
echo "== the embedding store:"
"$exe" show demo-out/embeddings.h5 --log-level warn
