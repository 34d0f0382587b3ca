#!/usr/bin/env bash
# Bad inputs to `esmpipe preprocess` (contract rule 4 and the brief's bad-input rules):
# orphans are counted and listed; duplicate IDs, malformed XML and truncated .gz files are
# clear errors naming file and record/line; nothing appears under a final name.
set -uo pipefail
exe=${ESMPIPE_EXE:?} src=${ESMPIPE_SOURCE_DIR:?}
data=$src/data/mini-uniref
check=$src/tests/preprocess/check_outputs.py
tmp=$(mktemp -d /tmp/esm_pp_bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

outputs="uniref50_train_filt.fasta uniref50_valid.fasta uniref90membersandreps_ur50trainfiltreps.fasta mapping.tsv starts.mmap counts.mmap sampling_offsets.mmap removed.tsv orphans.tsv manifest.json"
no_final_outputs() {  # $1 = out dir
  for f in $outputs; do [ -e "$1/$f" ] && fail "$1/$f exists after a failed run"; done
}
# expect_error NAME PATTERN ARGS...: exit status must be non-zero, stderr must match PATTERN.
expect_error() {
  local name=$1 pattern=$2; shift 2
  local out=$tmp/out_$name
  "$exe" preprocess --out "$out" --val-size 0 --log-level warn "$@" >"$tmp/$name.log" 2>&1
  local rc=$?
  [ $rc -ne 0 ] || fail "$name: exit status 0"
  grep -Eq "$pattern" "$tmp/$name.log" || { fail "$name: message does not match '$pattern'"; cat "$tmp/$name.log"; }
  no_final_outputs "$out"
  [ $fails -eq 0 ] && echo "ok: $name -> $(grep -Eo "$pattern.*" "$tmp/$name.log" | head -1 | cut -c1-150)"
}

u50=$data/uniref50.fasta.gz u90=$data/uniref90.fasta.gz tsv=$data/membership.tsv.gz xml=$data/uniref50.xml.gz

# 1. Orphans: a member without a sequence and a UniRef90 record in no cluster.
zcat "$tsv" | grep -v '^UniRef90_A0A0F9Y091	' >"$tmp/orph.tsv"
printf 'UniRef90_NOSUCH1\tUniRef50_A0A0V1KEB6\n' >>"$tmp/orph.tsv"
"$exe" preprocess --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/orph.tsv" --out "$tmp/orph" --val-size 0 \
  --log-level warn || fail "orphans: run failed"
grep -qx $'UniRef90_A0A0F9Y091\tno_cluster' "$tmp/orph/orphans.tsv" || fail "orphans: no_cluster row missing"
grep -qx $'UniRef90_NOSUCH1\tno_sequence' "$tmp/orph/orphans.tsv" || fail "orphans: no_sequence row missing"
grep -q '"orphans_no_cluster": 1' "$tmp/orph/manifest.json" || fail "orphans: manifest count"
/usr/bin/python3 "$check" --out "$tmp/orph" --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/orph.tsv" || fail "orphans: checker"

# 2. A member listed in two clusters.
zcat "$tsv" >"$tmp/two.tsv"
printf 'UniRef90_A0A0F9Y091\tUniRef50_A0A0K9U7H0\n' >>"$tmp/two.tsv"
expect_error two_clusters "UniRef90_A0A0F9Y091 is a member of two clusters" --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/two.tsv"

# 3. Duplicate IDs in UniRef50 and UniRef90.
{ zcat "$u50"; zcat "$u50" | head -3; } | gzip -1 >"$tmp/dup50.fasta.gz"
expect_error duplicate50 "duplicate ID UniRef50_A0A0V1KEB6: record 1 \(byte 0\) and record 7423" \
  --uniref50 "$tmp/dup50.fasta.gz" --uniref90 "$u90" --membership "$tsv"
{ zcat "$u90" | head -2; zcat "$u90"; } >"$tmp/dup90.fasta"
expect_error duplicate90 "duplicate ID UniRef90_[A-Z0-9]+: record 1 \(byte 0\) and record 2 " \
  --uniref50 "$u50" --uniref90 "$tmp/dup90.fasta" --membership "$tsv"

# 4. Malformed XML entries: no id, an unterminated attribute, an entry cut off at the end.
zcat "$xml" | sed '3s/<entry id="[^"]*"/<entry/' >"$tmp/noid.xml"
expect_error xml_no_id "noid.xml:3: malformed XML: <entry> without an id attribute" \
  --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/noid.xml"
zcat "$xml" | sed '12s/value="\([^"]*\)"/value="\1/' >"$tmp/quote.xml"
expect_error xml_quote "quote.xml:[0-9]+: malformed XML" --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/quote.xml"
zcat "$xml" | head -n 5000 | gzip -1 >"$tmp/cut.xml.gz"
expect_error xml_cut "cut.xml.gz:[0-9]+: the file ends inside entry UniRef50_" \
  --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/cut.xml.gz"

# 5. Truncated .gz files (FASTA and membership).
head -c 2000000 "$u90" >"$tmp/trunc90.fasta.gz"
expect_error trunc_fasta "trunc90.fasta.gz.*(truncated|ends)" --uniref50 "$u50" --uniref90 "$tmp/trunc90.fasta.gz" --membership "$tsv"
head -c 50000 "$tsv" >"$tmp/trunc.tsv.gz"
expect_error trunc_tsv "trunc.tsv.gz.*(truncated|ends)" --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/trunc.tsv.gz"

# 6. Outputs never overwritten without --force. (No --membership is not an error: records are
# then placed by clustering, see test_no_membership.sh.)
"$exe" preprocess --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/orph.tsv" --out "$tmp/orph" --val-size 0 \
  --log-level warn >"$tmp/again.log" 2>&1 || fail "rerun of a complete run should succeed (nothing to do)"
"$exe" preprocess --uniref50 "$u50" --uniref90 "$u90" --membership "$tsv" --out "$tmp/orph" --val-size 0 \
  --log-level warn >"$tmp/other.log" 2>&1 && fail "a different run into a complete directory must be refused"
head -c 100 "$tmp/orph/mapping.tsv" >"$tmp/orph/mapping.tsv.cut" && mv "$tmp/orph/mapping.tsv.cut" "$tmp/orph/mapping.tsv"
"$exe" preprocess --uniref50 "$u50" --uniref90 "$u90" --membership "$tmp/orph.tsv" --out "$tmp/orph" --val-size 0 \
  --log-level warn >"$tmp/changed.log" 2>&1 && fail "a complete run whose output changed must not pass as done"
grep -q "mapping.tsv: missing or changed" "$tmp/changed.log" || fail "changed output not named"
grep -q "pass --force" "$tmp/other.log" || fail "refusal does not name --force"

[ $fails -eq 0 ] && echo "all bad-input checks passed"
exit $((fails > 0))
