#!/bin/bash
# Identity-filter benchmark: the same train x validation job run by MMseqs2 (ESM-2 flags,
# 2 threads) and by `esmpipe filter` (1 rank x 2 threads, and 1 vs 2 ranks x 1 thread for the
# rank scaling), in one run. Prints wall times, the ratio, recall, extra removals, peak RSS.
#
# usage: bench/align/filter_vs_mmseqs.sh [N_TRAIN=100000] [N_VALID=2000] [WORKDIR=/tmp/esm-filter-bench]
# env:   ESMPIPE_EXE (default build/src/cli/esmpipe), BLASTDB_PATH (metastudent-data BPO db)
# needs: mmseqs2, ncbi-blast+ (blastdbcmd), metastudent-data (scripts/packages/bench.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n_train=${1:-100000}
n_valid=${2:-2000}
work=${3:-/tmp/esm-filter-bench}
exe=${ESMPIPE_EXE:-$root/build/src/cli/esmpipe}
db=${BLASTDB_PATH:-/usr/share/metastudent-data/dataset_201401/BPO/goasp.fasta}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work"
if [ ! -s "$work/train.fasta" ] || [ "$(grep -c '>' "$work/train.fasta")" != "$n_train" ]; then
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

rm -rf "$work/mmtmp"
timed mmseqs_2threads mmseqs easy-search "$work/train.fasta" "$work/valid.fasta" "$work/mm.m8" "$work/mmtmp" \
  --min-seq-id 0.5 --alignment-mode 3 --max-seqs 300 -s 7 -c 0.8 --cov-mode 0 --threads 2
timed esmpipe_1rank_2threads "$exe" filter --query "$work/train.fasta" --target "$work/valid.fasta" \
  --out "$work/removed.tsv" --threads 2 --overwrite
timed esmpipe_1rank_1thread "$exe" filter --query "$work/train.fasta" --target "$work/valid.fasta" \
  --out "$work/removed.r1.tsv" --threads 1 --overwrite
timed esmpipe_2ranks_1thread mpirun --oversubscribe --bind-to none -n 2 "$exe" filter --query "$work/train.fasta" \
  --target "$work/valid.fasta" --out "$work/removed.r2.tsv" --threads 1 --overwrite
cmp "$work/removed.r1.tsv" "$work/removed.r2.tsv" && cmp "$work/removed.tsv" "$work/removed.r1.tsv"

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
t_2t=$(cut -d' ' -f1 "$work/esmpipe_1rank_2threads.time")
t_r1=$(cut -d' ' -f1 "$work/esmpipe_1rank_1thread.time")
t_r2=$(cut -d' ' -f1 "$work/esmpipe_2ranks_1thread.time")
echo "removed: mmseqs $mm, esmpipe $ours, both $both; recall $(echo "$both/$mm" | bc -l | cut -c1-6); extra $extra (exact-confirmed $confirmed)"
echo "speed: esmpipe (2 threads) vs mmseqs (2 threads): $(echo "$t_mm/$t_2t" | bc -l | cut -c1-6)x"
echo "rank scaling 1 -> 2 ranks (1 thread each): $(echo "$t_r1/$t_r2" | bc -l | cut -c1-6)x"
echo "esmpipe rate: $(echo "$train_res*$valid_res/$t_2t/1000000000" | bc -l | cut -c1-6) G residue-pairs/s (train x valid residues / wall, 2 threads)"
grep -h "rank searched" "$work/esmpipe_1rank_2threads.log" || true
