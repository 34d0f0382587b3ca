#!/usr/bin/env bash
# The README demo: `esmpipe run jobs/demo.ini` runs preprocess and embed under mpirun, `esmpipe
# show` reads the store, and a second run skips both stages.
set -euo pipefail
src="${ESMPIPE_SOURCE_DIR:?}"
exe="${ESMPIPE_EXE:?}"
tmp="$(mktemp -d /tmp/esmpipe-run-demo.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$exe" run "$src/jobs/demo.ini" --workdir "$tmp/demo"
[[ -s "$tmp/demo/preprocess/uniref50_train_filt.fasta" ]] || fail "no train FASTA"
n_valid="$(grep -c '^>' "$tmp/demo/preprocess/uniref50_valid.fasta")"
[[ "$n_valid" == 40 ]] || fail "validation set has $n_valid records, the job asks for 40"
show="$("$exe" show "$tmp/demo/embeddings.h5")"
echo "$show"
grep -Eq "complete +yes" <<<"$show" || fail "esmpipe show does not say complete"
/usr/bin/python3 - "$tmp/demo/embeddings.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["complete"] == 1
assert f["sequences/done"].shape == (40,) and f["sequences/done"][()].all()
assert f["layers/2/mean"].shape == (40, 64)
PY
out="$("$exe" run "$src/jobs/demo.ini" --workdir "$tmp/demo" 2>&1)"
grep -q "preprocess: done, skipped" <<<"$out" || fail "second run redid preprocess: $out"
grep -q "embed: done, skipped (store complete, 40 sequences)" <<<"$out" || fail "second run redid embed: $out"
echo "PASS"
