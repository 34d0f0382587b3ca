#!/bin/bash
# Bad inputs give a clear error, a non-zero exit, and leave existing outputs untouched.
source "$(dirname "$0")/common.sh"
sample 12 "$W/in.fa"
base=(--model "$G" --threads 1 --max-residues 128 --log-level warn)

# expect_error WHAT PATTERN cmd...: the command fails and its stderr matches PATTERN.
expect_error() {
  local what=$1 pattern=$2; shift 2
  set +e
  "$@" > "$W/out.txt" 2> "$W/err.txt"
  local rc=$?
  set -e
  [ "$rc" != 0 ] || fail "$what: exit 0"
  grep -qE "$pattern" "$W/err.txt" || { cat "$W/err.txt"; fail "$what: message does not match '$pattern'"; }
  echo "ok: $what -> $(grep -E "$pattern" "$W/err.txt" | head -1 | cut -c1-160)"
}

# A complete store every case below must leave exactly as it is.
"$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$W/keep.h5"
sum=$(md5sum < "$W/keep.h5")
unchanged() { [ "$(md5sum < "$W/keep.h5")" = "$sum" ] || fail "$1 changed the existing store"; [ ! -e "$W/keep.h5.lock" ] || fail "$1 left a lock"; }

# Duplicate IDs: both record numbers, before any work (no store, no lock).
awk '/^>/{k++} k<=3' "$W/in.fa" > "$W/dup.fa"
awk '/^>/{k++} k==1' "$W/in.fa" >> "$W/dup.fa"
id1=$(head -1 "$W/dup.fa" | cut -c2- | cut -d' ' -f1)
expect_error "duplicate IDs" "duplicate ID '$id1' in records 1 and 4" run 2 embed "${base[@]}" --fasta "$W/dup.fa" --out "$W/dup.h5"
[ ! -e "$W/dup.h5" ] && [ ! -e "$W/dup.h5.lock" ] || fail "duplicate IDs left files behind"

# A model directory without its weights.
mkdir "$W/model"; cp "$G/config.json" "$W/model/"
expect_error "missing model file" "model.safetensors" "$E" embed --model "$W/model" --fasta "$W/in.fa" --out "$W/m.h5"
[ ! -e "$W/m.h5" ] || fail "missing model left a store"

# An existing store is never replaced without --overwrite.
expect_error "existing output" "exists; use --resume .* or --overwrite" "$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$W/keep.h5"
unchanged "refused overwrite"

# --resume refuses a store made with other options, another input or another model.
expect_error "resume with other options" "option set is .*dtype=float32.* but this run's is .*dtype=float16" \
  "$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$W/keep.h5" --resume --dtype float16
unchanged "mismatched options"
sed '2s/^./W/' "$W/in.fa" > "$W/other.fa"
expect_error "resume with other input" "its input .* is [0-9a-f]{64} but this run's is [0-9a-f]{64}" \
  "$E" embed "${base[@]}" --fasta "$W/other.fa" --out "$W/keep.h5" --resume
unchanged "mismatched input"
mkdir "$W/model2"; cp "$G"/config.json "$W/model2/"
"$PY" - "$G/model.safetensors" "$W/model2/model.safetensors" <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 1  # one bit of the last tensor's data: a different model, still loadable
open(sys.argv[2], "wb").write(b)
PYEOF
expect_error "resume with another model" "its model \(weights sha256\) is" \
  "$E" embed --model "$W/model2" --threads 1 --max-residues 128 --fasta "$W/in.fa" --out "$W/keep.h5" --resume
unchanged "mismatched model"

# A store locked by a live job (this shell).
echo "$(hostname) $$ 0" > "$W/keep.h5.lock"
expect_error "locked store" "is locked by another job" "$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$W/keep.h5" --overwrite
rm "$W/keep.h5.lock"; unchanged "locked store"

# An output directory we cannot write (root ignores permissions: use a read-only system dir).
if [ "$(id -u)" = 0 ]; then ro=/sys/esmpipe-test.h5; else mkdir "$W/ro"; chmod 555 "$W/ro"; ro=$W/ro/x.h5; fi
expect_error "read-only output directory" "cannot create lock file .*(Permission denied|Read-only)" \
  "$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$ro"

# Bad option values are usage errors (exit 2).
set +e; "$E" embed "${base[@]}" --fasta "$W/in.fa" --out "$W/x.h5" --compression lz4 2> "$W/err.txt"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "compression" "$W/err.txt" || fail "--compression lz4: exit $rc"
"$E" show "$W/keep.h5" | grep -q "complete      yes" || fail "show does not report the store complete"
echo "bad inputs test: all refused cleanly"
