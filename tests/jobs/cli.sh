#!/usr/bin/env bash
# esmpipe run/submit/status without Slurm and without running stages: dry runs, the skip and
# mismatch decisions against outputs made here, and the errors of bad job files.
set -euo pipefail
src="${ESMPIPE_SOURCE_DIR:?}"
exe="${ESMPIPE_EXE:?}"
tmp="$(mktemp -d /tmp/esmpipe-jobs-cli.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ESMPIPE_SLURM_DIR="$src/slurm"

# submit --dry-run: both scripts, the chain, nothing written.
out="$("$exe" submit "$src/jobs/demo.ini" --workdir "$tmp/w" --dry-run)"
[[ ! -e "$tmp/w" ]] || fail "--dry-run created the workdir"
for want in "# ---- preprocess: $tmp/w/slurm/demo-preprocess.sbatch" "#SBATCH --job-name=demo-embed" \
    "#SBATCH --ntasks-per-node=2" "#SBATCH --output=$tmp/w/logs/demo-embed-%j.out" "#SBATCH --signal=B:USR1@300" \
    "#SBATCH --requeue" "#SBATCH --overcommit" "esm_stage_begin \"--resume\" $exe status $src/jobs/demo.ini --stage embed --state --workdir $tmp/w" \
    "srun --mpi=pmix --cpu-bind=cores --kill-on-bad-exit=1  $exe embed --model $src/data/golden/esm2-public --fasta $tmp/w/preprocess/uniref50_valid.fasta --out $tmp/w/embeddings.h5" \
    "# submit: sbatch --parsable --dependency=afterok:<job id of preprocess> --kill-on-invalid-dep=yes $tmp/w/slurm/demo-embed.sbatch"; do
  grep -qF -- "$want" <<<"$out" || { echo "$out"; fail "submit --dry-run lacks: $want"; }
done
# The rendered script is valid bash.
awk '/^# ---- embed/{on=1; next} on && /^# submit/{exit} on' <<<"$out" > "$tmp/embed.sbatch"
bash -n "$tmp/embed.sbatch" || fail "rendered embed script is not valid bash"
out="$("$exe" submit "$src/jobs/uniref50-esm2nv.ini" --dry-run)"
for want in "#SBATCH --gpus-per-node=8" "#SBATCH --ntasks-per-node=8" "#SBATCH --cpus-per-task=14" \
    "#SBATCH --signal=B:USR1@600" "#SBATCH --exclusive" "--device cuda" "--dtype float16"; do
  grep -qF -- "$want" <<<"$out" || fail "uniref50-esm2nv dry run lacks: $want"
done

# run --dry-run: what it would run, and that it skips a finished stage.
out="$("$exe" run "$src/jobs/demo.ini" --workdir "$tmp/r" --dry-run 2>&1)"
grep -q "preprocess: missing (no output yet), running on 2 ranks:" <<<"$out" || fail "run --dry-run: $out"
grep -q -- "-n 2 .* preprocess --uniref50 $src/data/mini-uniref/uniref50.fasta.gz" <<<"$out" || fail "run --dry-run command: $out"
mkdir -p "$tmp/r/preprocess"
printf '>v1\nMKV\n' > "$tmp/r/preprocess/uniref50_valid.fasta"
echo '{"state": "complete", "parameters": {"seed": 1, "val_size": 40, "max_residues": 1023}, "outputs": [{"path": "uniref50_valid.fasta", "size": 8}]}' > "$tmp/r/preprocess/manifest.json"
out="$("$exe" run "$src/jobs/demo.ini" --workdir "$tmp/r" --dry-run --ranks 3 2>&1)"
grep -q "preprocess: done, skipped (manifest complete)" <<<"$out" || fail "run did not skip the finished preprocess: $out"
grep -q -- "-n 3 .* embed --model" <<<"$out" || fail "--ranks 3 not used: $out"
out="$("$exe" status "$src/jobs/demo.ini" --workdir "$tmp/r")"
grep -q "^preprocess done" <<<"$out" && grep -q "^embed      missing" <<<"$out" || fail "status: $out"
[[ "$("$exe" status "$src/jobs/demo.ini" --workdir "$tmp/r" --stage preprocess --state)" == done ]] || fail "--state"
# Finished with other parameters: run refuses without --force.
echo '{"state": "complete", "parameters": {"seed": 2}}' > "$tmp/r/preprocess/manifest.json"
if out="$("$exe" run "$src/jobs/demo.ini" --workdir "$tmp/r" --dry-run 2>&1)"; then fail "run accepted a mismatched preprocess"; fi
grep -q "seed is 2 in the manifest, 1 in the job; pass --force to redo it" <<<"$out" || fail "mismatch message: $out"
[[ "$("$exe" status "$src/jobs/demo.ini" --workdir "$tmp/r" --stage preprocess --state)" == mismatch ]] || fail "--state mismatch"

# Bad job files: the error names file and line, exit status 1.
printf '[job]\nname = x\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\nnodes = 0\n' > "$tmp/bad.ini"
set +e
out="$("$exe" run "$tmp/bad.ini" 2>&1)"; rc=$?
set -e
[[ $rc -eq 1 ]] || fail "bad job file: exit $rc"
grep -qF "$tmp/bad.ini:8: nodes must be a whole number >= 1, found '0'" <<<"$out" || fail "bad job file message: $out"
if "$exe" run "$tmp/missing.ini" 2>/dev/null; then fail "a missing job file was accepted"; fi

# run/submit/status do not initialise MPI; started as several ranks they still refuse (main reads
# the launcher's environment).
set +e
out="$(mpirun --oversubscribe --bind-to none -n 2 "$exe" status "$src/jobs/demo.ini" --workdir "$tmp/r" 2>&1)"; rc=$?
set -e
[[ $rc -ne 0 ]] || fail "status under mpirun -n 2 was accepted"
grep -qF "esmpipe status: is one process (2 were started); start it without mpirun/srun" <<<"$out" ||
  fail "status under mpirun -n 2: $out"
echo "PASS"
