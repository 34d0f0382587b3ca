#!/bin/bash
# esmpipe cluster command-line behaviour: bad options and inputs fail with a message naming the
# problem, an existing output is not replaced without --overwrite, and nothing is left under a
# final name (or as .partial) by a failed run.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
expect_fail() {  # expect_fail PATTERN ARGS...
  local pattern=$1; shift
  if "$ESMPIPE_EXE" cluster "$@" > "$tmp/log" 2>&1; then
    echo "FAIL: succeeded: $*"; fails=$((fails + 1)); return
  fi
  grep -q -- "$pattern" "$tmp/log" || { echo "FAIL: no '$pattern' in output of: $*"; cat "$tmp/log"; fails=$((fails + 1)); }
}
printf '>a first\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>c\nGGGGHHHHPPPP\n' > "$tmp/in.fasta"
printf '>a\nMKTA1YIAK\n' > "$tmp/bad.fasta"
expect_fail "'auto'" --in "$tmp/in.fasta" --out "$tmp/o.tsv" -k ten
expect_fail "between 5 and 17" --in "$tmp/in.fasta" --out "$tmp/o.tsv" -k 30
expect_fail "kmers-per-seq" --in "$tmp/in.fasta" --out "$tmp/o.tsv" --kmers-per-seq 0
expect_fail "cov-mode" --in "$tmp/in.fasta" --out "$tmp/o.tsv" --cov-mode 9
expect_fail "identity-gate" --in "$tmp/in.fasta" --out "$tmp/o.tsv" --identity-gate -1
expect_fail "same file" --in "$tmp/in.fasta" --out "$tmp/o.tsv" --reps "$tmp/o.tsv"
expect_fail "missing.fasta" --in "$tmp/missing.fasta" --out "$tmp/o.tsv"
expect_fail "bad.fasta" --in "$tmp/bad.fasta" --out "$tmp/o.tsv"
expect_fail "required" --in "$tmp/in.fasta"
[ -e "$tmp/o.tsv" ] || [ -e "$tmp/o.tsv.partial" ] && { echo "FAIL: output left by a failed run"; fails=$((fails + 1)); }

"$ESMPIPE_EXE" cluster --in "$tmp/in.fasta" --out "$tmp/o.tsv" --reps "$tmp/r.fasta" --log-level warn || fails=$((fails + 1))
# b (longest) takes a (identical prefix, fully covered); c stays alone. Representatives first.
printf 'b\tb\nb\ta\nc\tc\n' | diff - "$tmp/o.tsv" || { echo "FAIL: clusters"; fails=$((fails + 1)); }
printf '>b\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>c\nGGGGHHHHPPPP\n' | diff - "$tmp/r.fasta" || { echo "FAIL: reps"; fails=$((fails + 1)); }
expect_fail "overwrite" --in "$tmp/in.fasta" --out "$tmp/o.tsv"
"$ESMPIPE_EXE" cluster --in "$tmp/in.fasta" --out "$tmp/o.tsv" --overwrite --log-level warn || fails=$((fails + 1))
[ $fails -eq 0 ] && echo "cluster CLI: all checks passed"
exit $fails
