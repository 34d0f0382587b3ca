#!/bin/bash
# Byte-identical outputs for 1, 2, 3 and 4 MPI ranks: clusters.tsv, the reps FASTA and the
# --assign-to membership TSV, on whole UniRef50 clusters of mini-uniref.
# Usage: cluster_ranks.sh MPIRUN [MPIRUN_FLAGS...]
set -euo pipefail
src=$ESMPIPE_SOURCE_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/tests/cluster/make_subset.py" "$src/data/mini-uniref" "$tmp/sub" 16
for n in 1 2 3 4; do
  "$@" -n $n "$ESMPIPE_EXE" cluster --in "$tmp/sub/uniref90.fasta" --out "$tmp/c$n.tsv" --reps "$tmp/r$n.fasta" \
      --threads 1 --log-level warn
  cmp "$tmp/c1.tsv" "$tmp/c$n.tsv"
  cmp "$tmp/r1.fasta" "$tmp/r$n.fasta"
done
for n in 1 3; do
  "$@" -n $n "$ESMPIPE_EXE" cluster --in "$tmp/sub/uniref90.fasta" --assign-to "$tmp/sub/uniref50.fasta" \
      --out "$tmp/a$n.tsv" --threads 1 --log-level warn
  cmp "$tmp/a1.tsv" "$tmp/a$n.tsv"
done
echo "identical for 1-4 ranks: $(wc -l < "$tmp/c1.tsv") lines, $(grep -c '>' "$tmp/r1.fasta") clusters"
