#!/bin/bash
# Bad inputs to `esmpipe stats` (and the collective reader under mpirun): each must end with a
# clear error naming the file and the problem, a non-zero exit, and never a crash or a hang.
set -u
exe=${ESMPIPE_EXE:?}
src=${ESMPIPE_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
failures=0

# expect_error RANKS FILE PATTERN: non-zero exit (not a timeout, not a signal), stderr has PATTERN.
expect_error() {
  local ranks=$1 file=$2 pattern=$3 rc
  if [ "$ranks" = 1 ]; then
    timeout 60 "$exe" stats "$file" >out.txt 2>err.txt; rc=$?
  else
    timeout 60 mpirun --oversubscribe --bind-to none -n "$ranks" "$exe" stats "$file" >out.txt 2>err.txt; rc=$?
  fi
  if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $rc -ge 128 ]; then
    echo "FAIL $file ($ranks ranks): exit $rc (want a clean non-zero exit)"; cat err.txt; failures=$((failures+1)); return
  fi
  if ! grep -q -- "$file" err.txt || ! grep -q -- "$pattern" err.txt; then
    echo "FAIL $file ($ranks ranks): message lacks the file name or '$pattern':"; cat err.txt; failures=$((failures+1)); return
  fi
  echo "ok   $file ($ranks ranks): $(grep -m1 -- "$pattern" err.txt | sed 's/^.*ERROR\] //')"
}

zcat "$src/data/mini-uniref/uniref50.fasta.gz" > good.fa
head -c 1000000 "$src/data/mini-uniref/uniref50.fasta.gz" > truncated.fa.gz
zstd -q -c good.fa | head -c 700000 > truncated.fa.zst
/usr/bin/python3 -c '
import random, sys
random.seed(7)
data = bytes(random.getrandbits(8) for _ in range(200000))
sys.stdout.buffer.write(b"\x00\x01" + data)' > garbage.bin
head -c 100000000 /dev/zero | tr '\0' 'A' > longline.txt          # 100 MB, no newline, no header
{ printf '>x '; head -c 100000000 /dev/zero | tr '\0' 'A'; } > longheader.fa  # a 100 MB header line
: > empty.fa
printf '>only\n>headers here\n' > headeronly.fa
printf 'This is a README, not a FASTA file.\n>but it has a header later\nACD\n' > notfasta.txt
printf '>x\nACD\n' | xz -c > x.fa.xz 2>/dev/null || true

expect_error 1 truncated.fa.gz "truncated gzip"
expect_error 2 truncated.fa.gz "truncated gzip"
expect_error 1 truncated.fa.zst "truncated zstd"
expect_error 2 truncated.fa.zst "truncated zstd"
expect_error 1 garbage.bin "not FASTA"
expect_error 2 garbage.bin "not FASTA"
expect_error 1 longline.txt "not FASTA"
expect_error 1 longheader.fa "header line longer than"
expect_error 2 longheader.fa "header line longer than"
expect_error 1 empty.fa "no FASTA records"
expect_error 1 headeronly.fa "header-only"
expect_error 1 notfasta.txt "not FASTA"
expect_error 2 notfasta.txt "not FASTA"
[ -s x.fa.xz ] && expect_error 1 x.fa.xz "not supported"
expect_error 1 missing.fa "cannot open"

# A stale sidecar index is refused, not silently used.
cp "$src/data/mini-uniref/uniref50.fasta.gz" stale.fa.gz
"$exe" index --log-level warn stale.fa.gz || { echo "FAIL: esmpipe index"; failures=$((failures+1)); }
cp "$src/data/mini-uniref/uniref90.fasta.gz" stale.fa.gz
expect_error 2 stale.fa.gz "stale"
# ... and `esmpipe index` never overwrites one unasked.
if "$exe" index --log-level warn stale.fa.gz 2>err.txt; then echo "FAIL: index overwrote without --force"; failures=$((failures+1)); fi
"$exe" index --force --log-level warn stale.fa.gz || { echo "FAIL: index --force"; failures=$((failures+1)); }

echo "$failures failure(s)"
[ $failures -eq 0 ]
