#!/usr/bin/env bash
# esmpipe run stopped by SIGTERM in the middle of embed: it passes the stop on to the ranks,
# exits 75, and the next esmpipe run resumes the store to the same bytes as an uninterrupted run.
set -euo pipefail
src="${ESMPIPE_SOURCE_DIR:?}"
exe="${ESMPIPE_EXE:?}"
tmp="$(mktemp -d /tmp/esmpipe-run-resume.XXXXXX)"
pid=""
trap '[[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

{ zcat "$src/data/mini-uniref/uniref50.fasta.gz" || true; } | awk '/^>/{n++} n>120{exit} {print}' > "$tmp/subset.fasta"
cat > "$tmp/job.ini" <<EOF2
[job]
name = resume
workdir = $tmp/w
ranks_per_node = 2
[embed]
model = $src/data/golden/esm2-public
fasta = $tmp/subset.fasta
out = \${job.workdir}/store.h5
max-tokens = 1024
EOF2
"$exe" run "$tmp/job.ini" --workdir "$tmp/ref"

# The embed test hook slows each batch so the SIGTERM lands mid-run however fast this machine is.
ESMPIPE_TEST_BATCH_DELAY_MS=100 "$exe" run "$tmp/job.ini" > "$tmp/run1.log" 2>&1 &
pid=$!
t0=$SECONDS
while :; do
  p="$("$exe" status "$tmp/job.ini" --json --interval 0 2>/dev/null |
       /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin)["stages"][0].get("progress",{}); print(p.get("sequences_done",0))')"
  ((p >= 10)) && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/run1.log"; fail "run ended before it could be interrupted"; }
  ((SECONDS - t0 < 30)) || fail "no progress in 30 s"
  sleep 0.2
done
kill -TERM "$pid"
set +e
wait "$pid"; rc=$?
set -e
pid=""
cat "$tmp/run1.log"
[[ $rc -eq 75 ]] || fail "interrupted run exited $rc, expected 75"
grep -q "interrupted (exit 75); run the same command again to resume" "$tmp/run1.log" || fail "no resume hint"
[[ "$("$exe" status "$tmp/job.ini" --stage embed --state)" == partial ]] || fail "interrupted store is not partial"
out="$("$exe" run "$tmp/job.ini" 2>&1)"
echo "$out"
grep -q -- "embed .* --resume" <<<"$out" || fail "second run did not resume"
grep -Eq "resuming .*: [1-9][0-9]* of 120 sequences already done" <<<"$out" || fail "embed did not report the resume"
/usr/bin/python3 "$src/tests/jobs/compare_outputs.py" store "$tmp/ref/store.h5" "$tmp/w/store.h5"
echo "PASS"
