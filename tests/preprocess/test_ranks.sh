#!/usr/bin/env bash
# `esmpipe preprocess` on mini-uniref: the outputs pass every contract check and are
# byte-identical for 1, 2, 3 and 4 ranks; `esmpipe sample` is exact and rank-independent.
set -uo pipefail
. "$(dirname "$0")/pp_common.sh"
tmp=$(mktemp -d /tmp/esm_pp_ranks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
common=(--uniref50 "$u50" --uniref90 "$u90" --val-fraction 0.005 --seed 11 --log-level warn)
args=("${common[@]}" --membership "$tsv")
mpi 1 "$exe" preprocess "${args[@]}" --out "$tmp/n1" || fail "1 rank: run failed"
/usr/bin/python3 "$check" --out "$tmp/n1" --uniref50 "$u50" --uniref90 "$u90" --membership "$tsv" || fail "1 rank: checker"
for n in 2 3 4; do
  # 4 ranks also exercise the sort's spill path (a tiny --memory-limit).
  extra=(); [ "$n" = 4 ] && extra=(--memory-limit 256K)
  mpi $n "$exe" preprocess "${args[@]}" "${extra[@]}" --out "$tmp/n$n" || fail "$n ranks: run failed"
  same_outputs "$tmp/n1" "$tmp/n$n"
done
grep -q '"runs_spilled": [1-9]' "$tmp/n4/manifest.json" || fail "4 ranks with --memory-limit 256K did not spill"
# The UniRef50 XML gives the same membership as the TSV.
mpi 2 "$exe" preprocess "${common[@]}" --membership "$xml" --out "$tmp/xml" || fail "XML membership: run failed"
for f in $data_files; do cmp -s "$tmp/n1/$f" "$tmp/xml/$f" || fail "XML membership: $f differs"; done
# Sampler: exact draws (re-derived by the checker), same bytes on 1 and 3 ranks.
mpi 1 "$exe" sample --data "$tmp/n1" --epoch 2 --seed 5 --out "$tmp/s1.fasta" --log-level warn || fail "sample 1 rank"
mpi 3 "$exe" sample --data "$tmp/n1" --epoch 2 --seed 5 --out "$tmp/s3.fasta" --log-level warn || fail "sample 3 ranks"
cmp -s "$tmp/s1.fasta" "$tmp/s3.fasta" || fail "sample differs between 1 and 3 ranks"
"$exe" sample --data "$tmp/n1" --epoch 3 --seed 5 --log-level warn >"$tmp/e3.fasta" || fail "sample epoch 3"
cmp -s "$tmp/s1.fasta" "$tmp/e3.fasta" && fail "epochs 2 and 3 gave the same sample"
/usr/bin/python3 "$check" --out "$tmp/n1" --uniref50 "$u50" --uniref90 "$u90" --membership "$tsv" \
  --sample "$tmp/s1.fasta" --epoch 2 --sample-seed 5 || fail "sample: checker"
[ $fails -eq 0 ] && echo "ranks 1-4 identical, checker and sampler passed"
exit $((fails > 0))
