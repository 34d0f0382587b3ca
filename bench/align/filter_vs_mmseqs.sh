#!/bin/bash
# Identity-filter benchmark: the same train x validation job run by MMseqs2 (ESM-2 flags,
# 2 threads) and by `esmpipe filter` (1 rank x 2 threads, and 1 vs 2 ranks x 1 thread for the
# rank scaling), in one run. Prints wall times, the ratio, recall, extra removals, peak RSS.
#
# usage: bench/align/filter_vs_mmseqs.sh [--skip-2threads] [--reuse-mmseqs] [N_TRAIN=100000] [N_VALID=2000] [WORKDIR=/tmp/esm-filter-bench]
#   --skip-2threads  leave out the 1 rank x 2 threads run (saves one esmpipe run on big sets);
#                    the MMseqs2 comparison then uses 2 ranks x 1 thread (also 2 cores)
#   --reuse-mmseqs   keep WORKDIR/mm.m8 and its timing from an earlier run of the same set
#                    (MMseqs2 takes minutes to hours); its wall time is then marked "cached"
# env:   ESMPIPE_EXE (default build/src/cli/esmpipe), BLASTDB_PATH (metastudent-data BPO db)
# needs: mmseqs2, ncbi-blast+ (blastdbcmd), metastudent-data (scripts/packages/bench.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
skip_2threads=0 reuse_mmseqs=0
while [ $# -gt 0 ]; do
  case $1 in
    --skip-2threads) skip_2threads=1; shift ;;
    --reuse-mmseqs) reuse_mmseqs=1; shift ;;
    --*) echo "unknown option $1 (see the usage line in $0)" >&2; exit 2 ;;
    *) break ;;
  esac
done
n_train=${1:-100000}
n_valid=${2:-2000}
work=${3:-/tmp/esm-filter-bench}
exe=${ESMPIPE_EXE:-$root/build/src/cli/esmpipe}
db=${BLASTDB_PATH:-/usr/share/metastudent-data/dataset_201401/BPO/goasp.fasta}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work"
if [ ! -s "$work/train.fasta" ] || [ "$(grep -c '>' "$work/train.fasta")" != "$n_train" ] ||
   [ "$(grep -c '>' "$work/valid.fasta")" != "$n_valid" ]; then
  rm -f "$work/mm.m8" "$work/mmseqs_2threads.time"  # a cached MMseqs2 result belongs to the old set
  blastdbcmd -db "$db" -entry all -outfmt $'%a\t%s' | /usr/bin/python3 "$here/make_bench_set.py" "$work" "$n_train" "$n_valid" 1
fi
train_res=$(grep -v '>' "$work/train.fasta" | tr -d '\n' | wc -c)
valid_res=$(grep -v '>' "$work/valid.fasta" | tr -d '\n' | wc -c)
echo "set: $n_train train ($train_res residues) x $n_valid validation ($valid_res residues) from $db"

timed() {  # label, command...: wall seconds and peak RSS (max over processes) via GNU time
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@" >"$work/$label.log" 2>&1 || { tail "$work/$label.log"; exit 1; }
  read -r wall rss <"$work/$label.time"
  printf '%-28s wall %8.1f s   peak RSS %7.1f MB\n' "$label" "$wall" "$(echo "$rss/1024" | bc -l)"
}

mm_note=""
if [ "$reuse_mmseqs" = 1 ] && [ -s "$work/mm.m8" ] && [ -s "$work/mmseqs_2threads.time" ]; then
  mm_note=" (cached)"
  read -r wall rss <"$work/mmseqs_2threads.time"
  printf '%-28s wall %8.1f s   peak RSS %7.1f MB   (cached from an earlier run)\n' mmseqs_2threads "$wall" "$(echo "$rss/1024" | bc -l)"
else
  rm -rf "$work/mmtmp"
  timed mmseqs_2threads mmseqs easy-search "$work/train.fasta" "$work/valid.fasta" "$work/mm.m8" "$work/mmtmp" \
    --min-seq-id 0.5 --alignment-mode 3 --max-seqs 300 -s 7 -c 0.8 --cov-mode 0 --threads 2
fi
if [ "$skip_2threads" = 0 ]; then
  timed esmpipe_1rank_2threads "$exe" filter --query "$work/train.fasta" --target "$work/valid.fasta" \
    --out "$work/removed.tsv" --threads 2 --overwrite
fi
timed esmpipe_1rank_1thread "$exe" filter --query "$work/train.fasta" --target "$work/valid.fasta" \
  --out "$work/removed.r1.tsv" --threads 1 --overwrite
timed esmpipe_2ranks_1thread mpirun --oversubscribe --bind-to none -n 2 "$exe" filter --query "$work/train.fasta" \
  --target "$work/valid.fasta" --out "$work/removed.r2.tsv" --threads 1 --overwrite
cmp "$work/removed.r1.tsv" "$work/removed.r2.tsv"
if [ "$skip_2threads" = 0 ]; then
  cmp "$work/removed.tsv" "$work/removed.r1.tsv"
  fast=esmpipe_1rank_2threads
else
  cp "$work/removed.r2.tsv" "$work/removed.tsv"
  fast=esmpipe_2ranks_1thread
fi

cut -f1 "$work/mm.m8" | sort -u >"$work/mm.ids"
tail -n +2 "$work/removed.tsv" | cut -f1 | sort -u >"$work/ours.ids"
mm=$(wc -l <"$work/mm.ids"); ours=$(wc -l <"$work/ours.ids"); both=$(comm -12 "$work/mm.ids" "$work/ours.ids" | wc -l)
comm -13 "$work/mm.ids" "$work/ours.ids" >"$work/extra.ids"
extra=$(wc -l <"$work/extra.ids")
exact=${EXACT_SEARCH:-$root/build/tests/filter/exact_search}
confirmed=n/a
if [ -x "$exact" ] && [ "$extra" -gt 0 ]; then
  "$exact" "$work/train.fasta" "$work/valid.fasta" "$work/extra.ids" | cut -f1 | sort -u >"$work/extra.confirmed"
  confirmed=$(wc -l <"$work/extra.confirmed")
fi
t_mm=$(cut -d' ' -f1 "$work/mmseqs_2threads.time")
ratio() { printf '%.2f' "$(echo "$1/$2" | bc -l)"; }
t_fast=$(cut -d' ' -f1 "$work/$fast.time")
t_r1=$(cut -d' ' -f1 "$work/esmpipe_1rank_1thread.time")
t_r2=$(cut -d' ' -f1 "$work/esmpipe_2ranks_1thread.time")
echo "removed: mmseqs $mm, esmpipe $ours, both $both; recall $(printf '%.4f' "$(echo "$both/$mm" | bc -l)"); extra $extra (exact-confirmed $confirmed)"
echo "speed: $fast ${t_fast} s vs mmseqs 2 threads ${t_mm} s$mm_note: $(ratio "$t_mm" "$t_fast")x"
echo "rank scaling: 1 rank x 1 thread ${t_r1} s -> 2 ranks x 1 thread ${t_r2} s: $(ratio "$t_r1" "$t_r2")x"
echo "esmpipe rate: $(echo "$train_res*$valid_res/$t_fast/1000000000" | bc -l | cut -c1-6) G residue-pairs/s (train x valid residues / wall, $fast)"
echo "machine load at the end: $(uptime | sed 's/.*load average/load average/')"
# Per-query work from the filter's counters (1 rank x 1 thread run: every query in one line).
grep -h "rank searched" "$work/esmpipe_1rank_1thread.log" | sed 's/.*filter: //' | /usr/bin/python3 -c '
import re, sys
line = sys.stdin.read()
q = int(re.search(r"searched (\d+) queries", line).group(1))
for name, pat in (("seed hits", r"(\d+) seed hits"), ("diagonals tested", r"(\d+) diagonals tested"),
                  ("targets past the gates", r"(\d+) targets past"), ("SIMD scores", r"(\d+) SIMD scores"),
                  ("tracebacks", r"(\d+) tracebacks")):
    m = re.search(pat, line)
    if m: print(f"per query: {int(m.group(1)) / q:10.2f} {name}")
' || true
