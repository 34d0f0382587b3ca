#!/bin/bash
# The same input gives byte-identical datasets for 1, 2, 3 and 4 ranks, on the golden model's
# sequences (one longer than 1022) and a mini-uniref sample, with every output kind.
# $1: plain | zstd (zstd also stores float16, so both the chunked collective path and the half
# conversion are covered).
source "$(dirname "$0")/common.sh"
mode=${1:-plain}
sample 24 "$W/in.fa"
cat "$G/sequences.fasta" >> "$W/in.fa"
opts=(--model "$G" --threads 1 --layers 0,-1 --logits --contacts --max-residues 200
      --max-tokens 700 --log-level warn)
[ "$mode" = zstd ] && opts+=(--compression zstd:3 --dtype float16)
for p in 1 2 3 4; do
  run "$p" embed "${opts[@]}" --fasta "$W/in.fa" --out "$W/p$p.h5"
  [ "$(attr "$W/p$p.h5" complete)" = 1 ] || fail "P=$p store not complete"
done
for p in 2 3 4; do same "$W/p1.h5" "$W/p$p.h5" || fail "P=1 and P=$p differ ($mode)"; done
# A compressed input takes the staged path (store/residue_source.hpp): same store, no stage left.
if [ "$mode" = zstd ]; then zstd -q -c "$W/in.fa" > "$W/in.fa.zst"; z=$W/in.fa.zst; else gzip -c "$W/in.fa" > "$W/in.fa.gz"; z=$W/in.fa.gz; fi
run 3 embed "${opts[@]}" --fasta "$z" --out "$W/z3.h5"
same "$W/p1.h5" "$W/z3.h5" || fail "compressed input ($z) at P=3 differs from plain input at P=1"
# --sync-seconds 0 (fsync rows, then their done flags, after every batch): same bytes, and the
# per-rank report counts the fsyncs.
run 2 embed "${opts[@]/warn/info}" --fasta "$W/in.fa" --out "$W/sync.h5" --sync-seconds 0 2> "$W/sync.log"
same "$W/p1.h5" "$W/sync.h5" || fail "--sync-seconds 0 changed the store"
grep -A2 "per-rank work" "$W/sync.log" | tail -2 | awk '$NF == 0 { bad = 1 } END { exit bad }' || { cat "$W/sync.log"; fail "--sync-seconds 0 did no fsync on some rank"; }
! ls "$W"/*.stage-* > /dev/null 2>&1 || fail "a residue stage was left behind: $(ls "$W"/*.stage-*)"
# h5dump (HDF5's own reader, through the plugin for zstd) sees the same values in both.
for d in /layers/2/per_residue /contacts/data /sequences/id; do
  cmp <(h5dump -d "$d" "$W/p1.h5" | tail -n +2) <(h5dump -d "$d" "$W/p4.h5" | tail -n +2) || fail "h5dump $d differs"
done
echo "ranks test ($mode): P=1..4 identical"
