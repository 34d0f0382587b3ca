#!/bin/bash
# removed.tsv and --all-hits must be byte-identical for 1..4 MPI ranks and 1 or 2 threads.
set -euo pipefail
: "${ESMPIPE_SOURCE_DIR:?}" "${ESMPIPE_EXE:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$ESMPIPE_SOURCE_DIR/tests/filter/make_fixture.py" "$ESMPIPE_SOURCE_DIR" "$work" 600 40 2
gzip -k "$work/train.fasta"
run() {  # ranks threads input
  mpirun --oversubscribe --bind-to none -n "$1" "$ESMPIPE_EXE" filter --query "$3" --target "$work/valid.fasta" \
    --out "$work/removed.$1.$2.tsv" --all-hits "$work/all.$1.$2.m8" --threads "$2" --batch 97 --log-level warn
}
run 1 1 "$work/train.fasta"
rows=$(($(wc -l <"$work/removed.1.1.tsv") - 1))
[ "$rows" -gt 10 ] || { echo "only $rows removals: fixture too weak"; exit 1; }
for r in 1 2 3 4; do
  for t in 1 2; do
    [ "$r$t" = 11 ] && continue
    input="$work/train.fasta"
    [ "$r" = 3 ] && input="$work/train.fasta.gz"  # compressed input shards the same way
    run "$r" "$t" "$input"
    cmp "$work/removed.1.1.tsv" "$work/removed.$r.$t.tsv"
    cmp "$work/all.1.1.m8" "$work/all.$r.$t.m8"
  done
done
# Refuses to overwrite without --overwrite, leaving the old file intact.
if "$ESMPIPE_EXE" filter --query "$work/train.fasta" --target "$work/valid.fasta" --out "$work/removed.1.1.tsv" 2>"$work/err"; then
  echo "overwrote without --overwrite"; exit 1
fi
grep -q -- --overwrite "$work/err"
echo "identical for 1-4 ranks x 1-2 threads ($rows removals)"
