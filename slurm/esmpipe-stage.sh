# Shell helpers sourced by the sbatch scripts `esmpipe submit` renders from the templates in this
# directory. Kept in one place so every template stops, requeues and resumes the same way.
#
#   esm_stage_begin RESUME_FLAG STATE_COMMAND...
#       Logs where and which attempt this is, asks `esmpipe status --state` about the stage's
#       outputs and exits 0 when they are already complete (a requeued or resubmitted job that
#       has nothing left to do). Sets ESM_RESUME to RESUME_FLAG when they are partly written.
#   esm_stage_run COMMAND...
#       Runs the job step (srun ...) in the background so this shell can pass Slurm's warning
#       signal on: with `--signal=B:USR1@N` only the batch shell gets SIGUSR1, N seconds before
#       the time limit; srun forwards it to every rank, and embed stops at a batch boundary,
#       flushes the store and exits 75. Exit 75 without a SIGTERM (i.e. not scancel, not
#       preemption, not an scontrol requeue, which requeues by itself) requeues this job;
#       the next attempt resumes from /sequences/done. Exit 0 counts only when the outputs say
#       done (srun exits 0 when its tasks fail to launch).

esm_log() { echo "esmpipe-slurm [$(date +%FT%T)] $*"; }

esm_stage_begin() {
  local resume_flag="$1" state
  shift
  ESM_STATE_CMD=("$@")
  esm_log "job ${SLURM_JOB_NAME:-?} id ${SLURM_JOB_ID:-?} attempt $(( ${SLURM_RESTART_COUNT:-0} + 1 )) on ${SLURM_JOB_NODELIST:-?}: ${SLURM_NNODES:-?} nodes, ${SLURM_NTASKS:-?} tasks"
  if ! state="$("$@")"; then
    esm_log "cannot read the stage's state ($*)"
    exit 1
  fi
  ESM_RESUME=""
  case "$state" in
    done)
      esm_log "outputs already complete; nothing to do"
      exit 0 ;;
    mismatch)
      esm_log "outputs from another run are in the way (esmpipe status says why); not touching them"
      exit 1 ;;
    partial)
      ESM_RESUME="$resume_flag"
      esm_log "outputs partly written; continuing ${ESM_RESUME:+with $ESM_RESUME}" ;;
    *)
      esm_log "starting" ;;
  esac
}

esm_stage_run() {
  local rc
  ESM_STEP=""
  ESM_GOT_TERM=0
  ESM_GOT_USR1=0
  trap 'ESM_GOT_USR1=1; esm_log "SIGUSR1: time limit near, asking the step to stop at a batch boundary"; [ -n "$ESM_STEP" ] && kill -USR1 "$ESM_STEP" 2>/dev/null' USR1
  trap 'ESM_GOT_TERM=1; esm_log "SIGTERM: job ending (scancel, preemption or requeue)"; [ -n "$ESM_STEP" ] && kill -TERM "$ESM_STEP" 2>/dev/null' TERM
  esm_log "running: $*"
  "$@" &
  ESM_STEP=$!
  # A warning that arrived while the step was being started is passed on now.
  [ "$ESM_GOT_USR1" -eq 1 ] && kill -USR1 "$ESM_STEP" 2>/dev/null
  # `wait` returns early whenever a trapped signal arrives; wait again until the step is gone.
  while :; do
    wait "$ESM_STEP"
    rc=$?
    kill -0 "$ESM_STEP" 2>/dev/null || break
  done
  esm_log "step exited with status $rc"
  # srun can exit 0 when its tasks never started (e.g. "task launch failed"): trust the outputs.
  if [ "$rc" -eq 0 ]; then
    local state
    state="$("${ESM_STATE_CMD[@]}")" || state="unreadable"
    if [ "$state" != done ]; then
      esm_log "the step exited 0 but the outputs are $state; failing this job (esmpipe submit resumes it)"
      exit 1
    fi
  fi
  if [ "$rc" -eq 75 ] && [ "$ESM_GOT_TERM" -eq 0 ]; then
    esm_log "stopped cleanly before the time limit: requeueing job $SLURM_JOB_ID to resume"
    scontrol requeue "$SLURM_JOB_ID" || esm_log "scontrol requeue failed: resubmit with esmpipe submit to resume"
  fi
  exit "$rc"
}
