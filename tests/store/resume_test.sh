#!/bin/bash
# Interrupt a run at random points and resume it (with a different rank count): the finished
# store must equal an uninterrupted run byte for byte.
#   $1 = kill:   SIGKILL every rank (a crash / node loss); the store must read as incomplete and
#                the stale lock must be taken over.
#   $1 = signal: seeds 1 and 3 send SIGTERM to every rank (Slurm preemption), seed 2 sends SIGUSR1
#                to mpirun, which forwards it (sbatch --signal): exit 75 after a clean flush.
#   $1 = zstd_kill: a compressed float16 store whose rank 0 is SIGKILLed inside a collective
#                write round (test hook ESMPIPE_TEST_KILL_ROUND, store/writer.cpp): seed 1 after
#                the rows are written (nothing flushed), seed 2 after the chunk flush (no done
#                flag yet), seed 3 after the done flags (not flushed); mpirun kills the other
#                rank inside the round's collectives. The rewritten chunks of earlier rounds
#                must keep their done sequences' values.
#   $1 = zstd:   SIGTERM on a compressed float16 store (collective write rounds). Not in CI: on a
#                small input the done flags of a zstd store advance only with write rounds, which
#                here come after most of the compute, so the signal usually lands after the last
#                batch (a normal, exit-0 finish) and the test cannot be made deterministic.
source "$(dirname "$0")/common.sh"
mode=${1:-kill}
sample 160 "$W/in.fa"
opts=(--model "$G" --fasta "$W/in.fa" --threads 1 --max-residues 256 --max-tokens 300 --log-level warn)
case $mode in zstd | zstd_kill) opts+=(--compression zstd:1 --dtype float16 --logits) ;; esac
# Short collective write rounds, so the done flags advance during a small test run.
export ESMPIPE_ZSTD_ROUND_SECONDS=0.2

N=160
run 2 embed "${opts[@]}" --out "$W/ref.h5"

interrupted=0
for seed in 1 2 3; do
  out=$W/s$seed.h5
  signal=TERM; [ "$mode" = kill ] || [ "$mode" = zstd_kill ] && signal=KILL; [ "$mode" = signal ] && [ "$seed" = 2 ] && signal=USR1
  # Interrupt once a seeded fraction (10..80%) of the sequences is done: a point in the run's
  # progress, not a guessed time, so the test does not depend on the machine's speed.
  k=$(awk -v s="$seed" -v n="$N" 'BEGIN { srand(s); print int(n * (0.1 + 0.7 * rand())) }')
  set +e
  if [ "$mode" = zstd_kill ]; then
    steps=(- data flushed flags)
    ESMPIPE_TEST_KILL_ROUND=$seed:${steps[$seed]} ESMPIPE_TEST_BATCH_DELAY_MS=30 \
      mpirun --oversubscribe --bind-to none -n 2 "$E" embed "${opts[@]}" --out "$out" 2> "$W/log$seed"
    rc=$?
    set -e
    echo "seed $seed: rank 0 killed in write round $seed at step ${steps[$seed]}, exit $rc"
    [ "$rc" != 0 ] && [ "$(attr "$out" complete)" = 0 ] || { cat "$W/log$seed"; fail "seed $seed: the run was not interrupted"; }
    interrupted=$((interrupted + 1))
    run 3 embed "${opts[@]}" --out "$out" --resume
    same "$W/ref.h5" "$out" || fail "seed $seed: resumed store differs from the uninterrupted one"
    continue
  fi
  # The embed test hook slows each batch so the interruption lands mid-run on a fast machine too.
  # Seed 3 of the kill test defers done flags behind fsyncs (--sync-seconds): a kill must lose
  # only flags, never leave one over unwritten rows.
  sync=(); [ "$mode" = kill ] && [ "$seed" = 3 ] && sync=(--sync-seconds 0.1)
  ESMPIPE_TEST_BATCH_DELAY_MS=30 mpirun --oversubscribe --bind-to none -n 2 "$E" embed "${opts[@]}" "${sync[@]}" --out "$out" 2> "$W/log$seed" &
  mp=$!
  "$PY" "$HERE/wait_progress.py" "$out" "$k" 60
  if [ "$signal" = USR1 ]; then kill -USR1 "$mp"; else kill -"$signal" $(pgrep -P "$mp") 2>/dev/null; fi
  wait "$mp"; rc=$?
  set -e
  echo "seed $seed: signal $signal once $k of $N sequences were done, exit $rc"
  if [ -f "$out" ] && [ "$(attr "$out" complete)" = 0 ]; then
    interrupted=$((interrupted + 1))
    [ "$signal" = KILL ] || [ "$rc" = 75 ] || { cat "$W/log$seed"; fail "interrupted run exited $rc, not 75"; }
    [ "$signal" = KILL ] || [ ! -e "$out.lock" ] || fail "a clean stop left the lock behind"
  elif [ -f "$out" ] && [ "$signal" != KILL ]; then
    # A signal that arrives after the last batch changes nothing: the run ends normally.
    [ "$rc" = 0 ] || { cat "$W/log$seed"; fail "complete store but exit $rc"; }
  fi
  # Resume with 3 ranks (a different count), as a Slurm chain would.
  run 3 embed "${opts[@]}" --out "$out" --resume
  same "$W/ref.h5" "$out" || fail "seed $seed: resumed store differs from the uninterrupted one"
  [ ! -e "$out.lock" ] || fail "lock left after a finished run"
done
[ "$interrupted" -ge 2 ] || fail "only $interrupted of 3 runs were actually interrupted"
echo "resume test ($mode): $interrupted of 3 runs interrupted, all resumed identical"
