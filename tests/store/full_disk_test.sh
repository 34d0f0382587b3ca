#!/bin/bash
# A store that runs out of space mid-run: clear error naming the store, non-zero exit, the store
# left incomplete (complete = 0) and resumable, nothing else in its directory lost, no residue
# stage left behind. Then --resume, with space again, finishes it identical to a normal run.
#   part 1 (always): the file-size limit (ulimit -f: EFBIG, SIGXFSZ ignored) on a zstd store,
#                    whose file grows with every write round; a gzip input, so the stage is used.
#   part 2 (when mounting is permitted): a 2 MiB tmpfs (ENOSPC) under an uncompressed store
#                    written by 2 ranks; its sparse datasets fill up mid-run.
source "$(dirname "$0")/common.sh"
sample 40 "$W/in.fa"
gzip -c "$W/in.fa" > "$W/in.fa.gz"
export ESMPIPE_ZSTD_ROUND_SECONDS=0.1
base=(--model "$G" --threads 1 --max-residues 256 --max-tokens 600 --logits --log-level warn)

# expect_full DIR STORE LOG RC: the checks every out-of-space run must pass.
expect_full() {
  local dir=$1 store=$2 log=$3 rc=$4
  [ "$rc" != 0 ] || fail "out of space but exit 0"
  grep -qF "$store" "$log" || { cat "$log"; fail "the error does not name the store $store"; }
  grep -qiE "no space|too large|EFBIG|ENOSPC" "$log" || { cat "$log"; fail "the error does not say the disk is full"; }
  [ -f "$store" ] || fail "the store is gone"
  [ "$(attr "$store" complete)" = 0 ] || fail "a store cut short reads as complete"
  [ "$(cat "$dir/other.txt")" = "precious" ] || fail "another file in the directory was lost"
  ! ls "$dir"/*.stage-* > /dev/null 2>&1 || fail "a residue stage was left behind"
  echo "ok: $(grep -m1 -oiE "(no space|file too large)[^(]*\([^)]*\)" "$log")"
}

# Part 1: RLIMIT_FSIZE.
z=(--compression zstd:1 --dtype float16)
"$E" embed "${base[@]}" "${z[@]}" --fasta "$W/in.fa.gz" --out "$W/ref1.h5"
mkdir "$W/d1"; echo precious > "$W/d1/other.txt"
set +e
# The limit is set inside the launched process: the MPI runtime's own files must not hit it.
mpirun --oversubscribe --bind-to none -n 1 bash -c 'trap "" XFSZ; ulimit -f 600; exec "$@"' limited "$E" embed "${base[@]}" "${z[@]}" \
  --fasta "$W/in.fa.gz" --out "$W/d1/s.h5" 2> "$W/log1"
rc=$?
set -e
expect_full "$W/d1" "$W/d1/s.h5" "$W/log1" "$rc"
"$E" embed "${base[@]}" "${z[@]}" --fasta "$W/in.fa.gz" --out "$W/d1/s.h5" --resume 2> "$W/log1r"
same "$W/ref1.h5" "$W/d1/s.h5" || fail "the resumed store differs from a normal run (file-size limit)"
echo "part 1 (file-size limit): refused cleanly, resumed identical"

# Part 2: a full tmpfs.
mkdir "$W/d2"
if ! mount -t tmpfs -o size=2m esmpipe-test "$W/d2" 2> /dev/null; then
  echo "part 2 skipped: mounting a tmpfs is not permitted here"
  exit 0
fi
trap 'umount "$W/d2" 2> /dev/null; rm -rf "$W"' EXIT
echo precious > "$W/d2/other.txt"
run 2 embed "${base[@]}" --fasta "$W/in.fa" --out "$W/ref2.h5"
set +e
run 2 embed "${base[@]}" --fasta "$W/in.fa" --out "$W/d2/s.h5" 2> "$W/log2"
rc=$?
set -e
expect_full "$W/d2" "$W/d2/s.h5" "$W/log2" "$rc"
mount -o remount,size=64m "$W/d2"
run 2 embed "${base[@]}" --fasta "$W/in.fa" --out "$W/d2/s.h5" --resume 2> "$W/log2r"
same "$W/ref2.h5" "$W/d2/s.h5" || fail "the resumed store differs from a normal run (full tmpfs)"
echo "part 2 (full tmpfs): refused cleanly, resumed identical"
