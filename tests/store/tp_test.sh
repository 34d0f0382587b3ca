#!/bin/bash
# --tensor-parallel: a store made by 1 group of 2 ranks and by 2 groups of 2 ranks (the groups
# taking batches from the shared counter, tp_rank 0 writing) has the same bytes as a 1-rank
# TP=1 store, on the golden model's sequences and a mini-uniref sample with every output kind.
# The CPU split backend is the split reference forward, so the comparison is with --device
# reference; --device cpu and a rank count that N does not divide are refused by name.
source "$(dirname "$0")/common.sh"
sample 12 "$W/in.fa"
cat "$G/sequences.fasta" >> "$W/in.fa"
opts=(--model "$G" --threads 1 --layers 0,-1 --logits --contacts --max-residues 200
      --max-tokens 300 --fasta "$W/in.fa")
ref=(--device reference)
run 1 embed "${opts[@]}" "${ref[@]}" --log-level warn --out "$W/tp1.h5"
run 2 embed "${opts[@]}" "${ref[@]}" --log-level warn --tensor-parallel 2 --out "$W/n2.h5"
run 4 embed "${opts[@]}" "${ref[@]}" --log-level info --tensor-parallel 2 --out "$W/n4.h5" 2> "$W/n4.log"
for s in n2 n4; do
  [ "$(attr "$W/$s.h5" complete)" = 1 ] || fail "$s store not complete"
  same "$W/tp1.h5" "$W/$s.h5" || fail "TP=2 store $s differs from the TP=1 store"
done
# Per-rank report: 4 lines with the group column 0 0 1 1; only tp_rank 0 of a group writes bytes.
grep -A4 "per-rank work (rank tp_group" "$W/n4.log" | tail -4 > "$W/report"
awk '{ g[NR] = $2; w[NR] = $8 } END { exit !(NR == 4 && g[1] == 0 && g[2] == 0 && g[3] == 1 && g[4] == 1 &&
     w[1] > 0 && w[2] == 0 && w[3] > 0 && w[4] == 0) }' "$W/report" ||
  { cat "$W/n4.log"; fail "per-rank report does not show 2 groups written by their tp_rank 0"; }
# zstd: collective write rounds, in which the non-writing ranks take part with empty writes.
run 4 embed "${opts[@]}" "${ref[@]}" --log-level warn --tensor-parallel 2 --compression zstd:3 --out "$W/z4.h5"
run 1 embed "${opts[@]}" "${ref[@]}" --log-level warn --compression zstd:3 --out "$W/z1.h5"
same "$W/z1.h5" "$W/z4.h5" || fail "zstd TP=2 store differs from the zstd TP=1 store"
# SIGTERM to one rank of 2 groups (whichever: a lead stops the counter, a non-lead stops its group
# first): every rank stops at a batch boundary, exit 75; a TP=1 run with another rank count
# resumes it (the option is not in the CPU fingerprint) to the same bytes.
set +e
ESMPIPE_TEST_BATCH_DELAY_MS=300 mpirun --oversubscribe --bind-to none -n 4 "$E" embed "${opts[@]}" "${ref[@]}" \
  --log-level warn --tensor-parallel 2 --out "$W/sig.h5" 2> "$W/sig.log" &
mp=$!
"$PY" "$HERE/wait_progress.py" "$W/sig.h5" 1 30
victim=$(pgrep -P "$mp" | tail -1)
kill -TERM "$victim"
wait "$mp"; rc=$?
set -e
[ "$rc" = 75 ] && [ "$(attr "$W/sig.h5" complete)" = 0 ] || { cat "$W/sig.log"; fail "SIGTERM to one TP rank: exit $rc, not an interrupted store (75)"; }
run 2 embed "${opts[@]}" "${ref[@]}" --log-level warn --resume --out "$W/sig.h5"
same "$W/tp1.h5" "$W/sig.h5" || fail "TP=2 run interrupted and resumed with TP=1 differs from the TP=1 store"
# Bad N: 3 does not divide 2 ranks; cpu has no split form. Clear error naming the option, no store.
# Each bad case: ranks, options, and a fragment the error must contain.
while IFS='|' read -r p bad want; do
  if run "$p" embed "${opts[@]}" --log-level warn $bad --out "$W/bad.h5" > "$W/bad.log" 2>&1; then
    fail "embed with '$bad' on $p ranks succeeded"
  fi
  grep -q -- "--tensor-parallel.*$want" "$W/bad.log" || { cat "$W/bad.log"; fail "error for '$bad' does not say '--tensor-parallel ... $want'"; }
  [ ! -e "$W/bad.h5" ] || fail "'$bad' left a store behind"
done <<'CASES'
2|--device reference --tensor-parallel 3|multiple of it (2 ranks)
2|--device cpu --tensor-parallel 2|use --device reference
1|--device reference --tensor-parallel 0|at least 1
CASES
echo "tensor-parallel test: TP=2 (1 and 2 groups, plain and zstd) identical to TP=1; bad N refused"
