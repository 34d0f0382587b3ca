#!/usr/bin/env bash
# Restart: a run killed in the middle of any stage (or between stages, or between the final
# renames) leaves no output under a final name -- except outputs already complete during the
# commit -- and a plain rerun finishes with outputs identical to an uninterrupted run.
# Uses the test hooks ESMPIPE_TEST_KILL_IN_STAGE / ESMPIPE_TEST_KILL_AFTER_STAGE.
set -uo pipefail
. "$(dirname "$0")/pp_common.sh"
tmp=$(mktemp -d /tmp/esm_pp_restart.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# A set where the identity filter removes records: the first 2,000 UniRef90 clusters of
# mini-uniref, each also posing as its own UniRef50 cluster (90% clusters are close enough
# for many >= 50% identity hits), membership UniRef90_X -> UniRef50_X, plus one orphan.
zcat "$u90" | awk '/^>/ { n++ } n <= 2000' >"$tmp/u90.fasta"
sed 's/^>UniRef90_/>UniRef50_/' "$tmp/u90.fasta" | gzip -1 >"$tmp/u50.fasta.gz"
grep '^>' "$tmp/u90.fasta" | awk '{ id = substr($1, 11); print "UniRef90_" id "\tUniRef50_" id }' | sed 1d >"$tmp/m.tsv"
u50=$tmp/u50.fasta.gz u90=$tmp/u90.fasta tsv=$tmp/m.tsv
args=(--uniref50 "$u50" --uniref90 "$u90" --membership "$tsv" --val-size 12 --seed 3 --max-residues 200
      --crop random)
# The reference runs on 1 rank, the killed runs on 2: resuming must also be rank-independent.
mpi 1 "$exe" preprocess "${args[@]}" --log-level error --out "$tmp/ref" || fail "reference run failed"
/usr/bin/python3 "$check" --out "$tmp/ref" --uniref50 "$u50" --uniref90 "$u90" --membership "$tsv" || fail "reference: checker"
[ "$(wc -l <"$tmp/ref/removed.tsv")" -gt 3 ] || fail "the filter removed too few records for a meaningful test"
[ "$(wc -l <"$tmp/ref/orphans.tsv")" -eq 2 ] || fail "expected one orphan (the UniRef90 record left out of the membership)"
killed() {  # killed VAR STAGE
  local var=$1 stage=$2 out=$tmp/$1_$2
  env "$var=$stage" "$mpirun_bin" --oversubscribe --bind-to none -n 2 "$exe" preprocess "${args[@]}" --log-level error \
    --out "$out" >"$out.log" 2>&1 && fail "$var=$stage: the run was not killed"
  [ -e "$out/manifest.json" ] && fail "$var=$stage: manifest.json exists after the kill"
  if [ "$stage" != commit ]; then
    for f in $data_files; do [ -e "$out/$f" ] && fail "$var=$stage: $f exists after the kill"; done
  fi
  mpi 2 "$exe" preprocess "${args[@]}" --log-level info --out "$out" >"$out.rerun.log" 2>&1 || { fail "$var=$stage: rerun failed"; cat "$out.rerun.log"; }
  same_outputs "$tmp/ref" "$out"
  echo "ok: $var=$stage"
}
# Arguments: kill points, "in:STAGE" (ESMPIPE_TEST_KILL_IN_STAGE) or "after:STAGE".
for point in "$@"; do
  stage=${point#*:}
  case $point in
    in:*) killed ESMPIPE_TEST_KILL_IN_STAGE "$stage" ;;
    after:*)
      killed ESMPIPE_TEST_KILL_AFTER_STAGE "$stage"
      # The rerun after a kill between stages skips what was done.
      grep -q "stage $stage already done" "$tmp/ESMPIPE_TEST_KILL_AFTER_STAGE_$stage.rerun.log" ||
        fail "rerun after ESMPIPE_TEST_KILL_AFTER_STAGE=$stage redid finished stages" ;;
    *) echo "usage: test_restart.sh in:STAGE|after:STAGE ..."; exit 2 ;;
  esac
done
if [ -d "$tmp/ESMPIPE_TEST_KILL_IN_STAGE_commit" ]; then
  /usr/bin/python3 "$check" --out "$tmp/ESMPIPE_TEST_KILL_IN_STAGE_commit" --uniref50 "$u50" --uniref90 "$u90" \
    --membership "$tsv" || fail "checker after the commit kill"
fi
[ $fails -eq 0 ] && echo "every kill point resumed to identical outputs"
exit $((fails > 0))
