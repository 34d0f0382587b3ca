#!/usr/bin/env bash
# Real-Slurm tests of `esmpipe submit` (CTest label slurm). Starts a private single-node Slurm
# (tests/jobs/slurm_cluster.sh), always stops it, never waits without a bound.
#   slurm_chain.sh demo      submit jobs/demo.ini; outputs byte-identical to `esmpipe run`
#   slurm_chain.sh requeue   `scontrol requeue` an embed job mid-run, then send it the time-limit
#                            warning (SIGUSR1) so it requeues itself; the twice-resumed store
#                            equals an uninterrupted one, and status showed progress meanwhile
set -euo pipefail
mode="${1:?usage: slurm_chain.sh demo|requeue}"
src="${ESMPIPE_SOURCE_DIR:?}"
exe="${ESMPIPE_EXE:?}"
py=/usr/bin/python3
compare="$src/tests/jobs/compare_outputs.py"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the test Slurm runs slurmd as root"
  exit 77
fi
for prog in munged slurmctld slurmd sbatch srun scontrol; do
  command -v "$prog" >/dev/null || { echo "FAIL: $prog not found (scripts/bootstrap.sh test installs slurm-wlm and munge)"; exit 1; }
done

tmp="$(mktemp -d /tmp/esmpipe-slurm-test.XXXXXX)"
source "$src/tests/jobs/slurm_cluster.sh"
cleanup() {
  local rc=$?
  slurm_stop
  if [[ $rc -ne 0 ]]; then
    echo "---- logs of the failed test (kept in $tmp)"
    for f in "$tmp"/*/logs/*.out; do [[ -f "$f" ]] && { echo "== $f"; tail -n 40 "$f"; }; done
    slurm_dump_logs
  else
    rm -rf "$tmp"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export ESMPIPE_SLURM_DIR="$src/slurm"
slurm_start "$tmp/slurm"

fail() { echo "FAIL: $*"; exit 1; }

# Slurm holds a requeued batch job for about two minutes (BeginTime). The test releases it
# sooner, but only once the node is idle and every step daemon of the previous attempt is gone:
# the next attempt reuses the step IDs, and a step daemon still cleaning up (its PMIx socket is
# named after the step ID) makes the new step fail to launch.
release_when_idle() {
  local id="$1" t0=$SECONDS node
  while :; do
    node="$(timeout 10 sinfo -h -N -o '%t' 2>/dev/null | head -n 1)"
    [[ "$node" == idle* ]] && slurm_job_steps_gone "$id" && break
    ((SECONDS - t0 < 60)) || fail "job $id's previous attempt not cleaned up 60 s after the requeue ($node)"
    sleep 0.3
  done
  scontrol update JobId="$id" StartTime=now
}

if [[ "$mode" == demo ]]; then
  # 1. The reference: the same job run locally with mpirun.
  t0=$SECONDS
  "$exe" run "$src/jobs/demo.ini" --workdir "$tmp/local"
  echo "local run: $((SECONDS - t0)) s"
  # 2. The chain under Slurm.
  t0=$SECONDS
  ids="$("$exe" submit "$src/jobs/demo.ini" --workdir "$tmp/slurm-out")"
  read -r pre_id embed_id <<<"$ids"
  [[ -n "$pre_id" && -n "$embed_id" ]] || fail "submit printed '$ids', expected two job IDs"
  dep="$(scontrol show job -o "$embed_id" | grep -o 'Dependency=[^ ]*')"
  [[ "$dep" == *"afterok:$pre_id"* ]] || fail "embed job $embed_id does not depend on $pre_id ($dep)"
  st="$(slurm_wait_job "$pre_id" 90)" || fail "preprocess job $pre_id did not finish in 90 s ($st)"
  [[ "$st" == COMPLETED ]] || fail "preprocess job $pre_id ended $st"
  st="$(slurm_wait_job "$embed_id" 90)" || fail "embed job $embed_id did not finish in 90 s ($st)"
  [[ "$st" == COMPLETED ]] || fail "embed job $embed_id ended $st"
  echo "slurm chain: $((SECONDS - t0)) s"
  grep -q "srun --mpi=pmix" "$tmp/slurm-out/logs/demo-embed-$embed_id.out" || fail "embed log lacks the srun line"
  # 3. Same bytes.
  $py "$compare" dir "$tmp/local/preprocess" "$tmp/slurm-out/preprocess"
  $py "$compare" store "$tmp/local/embeddings.h5" "$tmp/slurm-out/embeddings.h5"
  # 4. status reads both the outputs and Slurm.
  out="$("$exe" status "$src/jobs/demo.ini" --workdir "$tmp/slurm-out" --interval 0)"
  echo "$out"
  grep -q "^preprocess *done" <<<"$out" || fail "status does not say preprocess done"
  grep -q "^embed *done" <<<"$out" || fail "status does not say embed done"
  grep -q "Slurm job $embed_id COMPLETED" <<<"$out" || fail "status does not report Slurm job $embed_id COMPLETED"
  # 5. A resubmission of a finished job queues nothing.
  again="$("$exe" submit "$src/jobs/demo.ini" --workdir "$tmp/slurm-out")"
  [[ -z "$again" ]] || fail "resubmitting a finished job queued '$again'"
  # 6. A chain whose first job fails: the dependent job is cancelled, not left pending forever.
  ids="$("$exe" submit "$src/jobs/demo.ini" --workdir "$tmp/broken" --set preprocess.uniref50=/nonexistent.fasta)"
  read -r pre_id embed_id <<<"$ids"
  st="$(slurm_wait_job "$pre_id" 60)" || fail "failing preprocess job did not end ($st)"
  [[ "$st" == FAILED ]] || fail "preprocess with a missing input ended $st, expected FAILED"
  st="$(slurm_wait_job "$embed_id" 60)" || fail "the dependent embed job $embed_id was left waiting ($st)"
  [[ "$st" == CANCELLED ]] || fail "dependent embed job ended $st, expected CANCELLED"
  echo "PASS: demo chain under Slurm equals esmpipe run; failed dependency cancels the chain"
  exit 0
fi

[[ "$mode" == requeue ]] || fail "unknown mode $mode"
# An embed-only job on 400 real UniRef50 representatives: long enough (~15 s here) to interrupt twice.
# (awk stops early and zcat gets SIGPIPE: expected, hence the || true.)
{ zcat "$src/data/mini-uniref/uniref50.fasta.gz" || true; } | awk '/^>/{n++} n>400{exit} {print}' > "$tmp/subset.fasta"
[[ "$(grep -c '^>' "$tmp/subset.fasta")" == 400 ]] || fail "could not cut 400 records from mini-uniref"
cat > "$tmp/requeue.ini" <<EOF2
[job]
name = requeue
workdir = $tmp/rq-slurm
template = cpu
ranks_per_node = 2
time = 00:10:00
sbatch = --overcommit
[embed]
model = $src/data/golden/esm2-public
fasta = $tmp/subset.fasta
out = \${job.workdir}/store.h5
device = cpu
max-tokens = 1024
EOF2
t0=$SECONDS
"$exe" run "$tmp/requeue.ini" --workdir "$tmp/rq-local"
echo "uninterrupted local run: $((SECONDS - t0)) s"

# Slow every batch a little (test hook of esmpipe embed; sbatch passes the environment on) so
# both interruptions land mid-run however fast this machine is.
id="$(ESMPIPE_TEST_BATCH_DELAY_MS=150 "$exe" submit "$tmp/requeue.ini")"
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit printed '$id'"
progress() {
  "$exe" status "$tmp/requeue.ini" --json --interval 0 2>/dev/null |
    $py -c 'import json,sys; p=json.load(sys.stdin)["stages"][0].get("progress",{}); print(p.get("sequences_done",0), p.get("sequences_total",0))'
}
# Wait (bounded) until a tenth of the sequences are in the store, then check status measures a rate.
t0=$SECONDS
while :; do
  read -r done total < <(progress)
  ((total > 0 && done * 10 >= total)) && break
  ((SECONDS - t0 < 60)) || fail "embed made no progress in 60 s ($done/$total)"
  st="$(slurm_job_state "$id")"
  case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) fail "job $id ended early: $st" ;; esac
  sleep 0.3
done
out="$("$exe" status "$tmp/requeue.ini" --interval 1)"
echo "$out"
grep -q "Slurm job $id RUNNING" <<<"$out" || fail "status does not show job $id RUNNING"
grep -Eq "tokens/s, ETA [0-9]+:[0-9]{2}:[0-9]{2}" <<<"$out" || fail "status shows no rate and ETA for the running embed"

scontrol requeue "$id"
echo "requeued job $id (status saw $done/$total sequences just before)"
# Slurm holds a requeued batch job back (BeginTime, about 2 minutes); wait until it is pending
# again, check the store is incomplete and resumable, then release it now.
t0=$SECONDS
until [[ "$(slurm_job_state "$id")" == PENDING ]]; do
  ((SECONDS - t0 < 60)) || fail "job $id not pending 60 s after the requeue ($(slurm_job_state "$id"))"
  sleep 0.3
done
read -r done_mid total < <(progress)
state="$("$exe" status "$tmp/requeue.ini" --stage embed --state)"
echo "after the requeue: $done_mid/$total sequences done, state $state"
[[ "$state" == partial ]] || fail "the interrupted store is '$state', expected partial"
((done_mid > 0 && done_mid < total)) || fail "expected an interrupted store, found $done_mid/$total done"
release_when_idle "$id"

# Second interruption, the time-limit path: Slurm's --signal=B:USR1 warning reaches the batch
# shell, which passes it to the ranks; embed exits 75 and the job requeues itself.
t0=$SECONDS
while :; do
  read -r done total < <(progress)
  ((done > done_mid)) && break
  ((SECONDS - t0 < 60)) || fail "the requeued job made no progress in 60 s ($done/$total)"
  sleep 0.2
done
scancel --batch --signal=USR1 "$id"
echo "sent the time-limit warning (SIGUSR1) at $done/$total sequences"
t0=$SECONDS
while [[ "$(slurm_job_state "$id")" != PENDING ]]; do
  ((SECONDS - t0 < 60)) || fail "job $id did not requeue itself within 60 s of SIGUSR1 ($(slurm_job_state "$id"))"
  sleep 0.3
done
read -r done_mid2 total < <(progress)
echo "after the self-requeue: $done_mid2/$total sequences done"
((done_mid2 < total)) || fail "the job finished before the warning took effect; nothing was resumed"
release_when_idle "$id"

st="$(slurm_wait_job "$id" 120)" || fail "requeued job $id did not finish in 120 s ($st)"
[[ "$st" == COMPLETED ]] || fail "requeued job ended $st"
log="$tmp/rq-slurm/logs/requeue-embed-$id.out"
grep -q "attempt 3" "$log" || fail "no third attempt in $log"
[[ "$(grep -c "continuing with --resume" "$log")" == 2 ]] || fail "the later attempts did not both resume ($log)"
grep -q "SIGUSR1: time limit near" "$log" || fail "the batch shell did not see SIGUSR1 ($log)"
grep -q "requeueing job $id to resume" "$log" || fail "the job did not requeue itself after exit 75 ($log)"
grep -Eq "resuming .*: [1-9][0-9]* of $total sequences already done" "$log" || fail "embed did not report a resume in $log"
$py "$compare" store "$tmp/rq-local/store.h5" "$tmp/rq-slurm/store.h5"
echo "PASS: requeued at $done_mid/$total and self-requeued at $done_mid2/$total sequences, resumed, store equals the uninterrupted one"
