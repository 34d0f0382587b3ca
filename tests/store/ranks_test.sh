#!/bin/bash
# The same input gives byte-identical datasets for 1, 2, 3 and 4 ranks, on the golden model's
# sequences (one longer than 1022) and a mini-uniref sample, with every output kind.
# $1: plain | zstd (zstd also stores float16, so both the chunked collective path and the half
# conversion are covered).
source "$(dirname "$0")/common.sh"
mode=${1:-plain}
sample 24 "$W/in.fa"
cat "$G/sequences.fasta" >> "$W/in.fa"
opts=(--model "$G" --fasta "$W/in.fa" --threads 1 --layers 0,-1 --logits --contacts --max-residues 200
      --max-tokens 700 --log-level warn)
[ "$mode" = zstd ] && opts+=(--compression zstd:3 --dtype float16)
for p in 1 2 3 4; do
  run "$p" embed "${opts[@]}" --out "$W/p$p.h5"
  [ "$(attr "$W/p$p.h5" complete)" = 1 ] || fail "P=$p store not complete"
done
for p in 2 3 4; do same "$W/p1.h5" "$W/p$p.h5" || fail "P=1 and P=$p differ ($mode)"; done
# h5dump (HDF5's own reader, through the plugin for zstd) sees the same values in both.
for d in /layers/2/per_residue /contacts/data /sequences/id; do
  cmp <(h5dump -d "$d" "$W/p1.h5" | tail -n +2) <(h5dump -d "$d" "$W/p4.h5" | tail -n +2) || fail "h5dump $d differs"
done
echo "ranks test ($mode): P=1..4 identical"
