#!/bin/bash
# Store benchmarks, each figure next to its peer measured in the same run:
#   1. store write throughput (GB/s, parallel HDF5 through StoreWriter, fsync'ed) vs dd
#      (1 MiB blocks, conv=fdatasync) of the same size to the same directory, and the cost of
#      --sync-seconds 0 and 5 against no periodic sync;
#   2. `esmpipe embed` wall time at 1 and 2 ranks (1 thread each) on the CPU with a random-weight
#      esm2_t6_8M model over a mini-uniref sample: scaling = t(1) / t(2) (target >= 1.8).
# usage: bench/store/run_bench.sh BUILD_DIR [WORK_DIR] [GIB] [SEQUENCES]
set -euo pipefail
B=$(realpath "${1:?build dir}")
W=${2:-$B/bench-store-work}
GIB=${3:-1}
NSEQ=${4:-300}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$W"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI=(mpirun --oversubscribe --bind-to none)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), disk $(df -h "$W" | tail -1 | awk '{print $1, $2}')"

# 1. Write throughput.
count=$(awk -v g="$GIB" 'BEGIN { print int(g * 1024) }')
rm -f "$W/dd.bin"
t0=$(date +%s.%N)
dd if=/dev/zero of="$W/dd.bin" bs=1M count="$count" conv=fdatasync status=none
t1=$(date +%s.%N)
rm -f "$W/dd.bin"
dd_gbs=$(awk -v c="$count" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", c * 1048576 / 1e9 / (b - a) }')
echo "dd: $(awk -v c="$count" 'BEGIN { printf "%.3f", c * 1048576 / 1e9 }') GB in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s = $dd_gbs GB/s"
for p in 1 2; do
  rm -f "$W/w.h5"
  line=$("${MPI[@]}" -n "$p" "$B/bench/store/bench_store_write" --out "$W/w.h5" --gib "$GIB" --hidden 1280 | grep "store write")
  gbs=$(echo "$line" | sed 's/.*throughput=\([0-9.]*\).*/\1/')
  echo "$line; ratio to dd = $(awk -v a="$gbs" -v b="$dd_gbs" 'BEGIN { printf "%.2f", a / b }')"
done
rm -f "$W/w.h5"
# Durability cost: --sync-seconds 0 (fsync before every batch's done flags) and 5, 2 ranks,
# against the same writer without it (its one fsync at the end is in every figure).
for sync in -1 0 5; do
  rm -f "$W/w.h5"
  line=$("${MPI[@]}" -n 2 "$B/bench/store/bench_store_write" --out "$W/w.h5" --gib "$GIB" --hidden 1280 --sync-seconds "$sync" | grep "store write")
  gbs=$(echo "$line" | sed 's/.*throughput=\([0-9.]*\).*/\1/')
  [ "$sync" = -1 ] && nosync=$gbs
  echo "$line; ratio to dd = $(awk -v a="$gbs" -v b="$dd_gbs" 'BEGIN { printf "%.2f", a / b }'), to no sync = $(awk -v a="$gbs" -v b="$nosync" 'BEGIN { printf "%.2f", a / b }')"
done
rm -f "$W/w.h5"

# 2. Embed scaling, 1 vs 2 ranks.
[ -f "$W/esm2_t6_8M/model.safetensors" ] || "$B/bench/store/bench_store_write" --make-model "$W/esm2_t6_8M" --card "$SRC/configs/models/esm2_t6_8M.json"
zcat "$SRC/data/mini-uniref/uniref50.fasta.gz" | awk -v n="$NSEQ" '/^>/{k++} k<=n' > "$W/sample.fa"
declare -A wall
for p in 1 2; do
  rm -f "$W/e.h5"
  t0=$(date +%s.%N)
  "${MPI[@]}" -n "$p" "$B/src/cli/esmpipe" embed --model "$W/esm2_t6_8M" --fasta "$W/sample.fa" --out "$W/e.h5" \
    --threads 1 --log-level info 2> "$W/embed$p.log"
  t1=$(date +%s.%N)
  wall[$p]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  echo "embed esm2_t6_8M (random weights), $NSEQ sequences, $p rank(s) x 1 thread: ${wall[$p]}s"
  # Per-rank tokens, busy and idle seconds: the balance that decides scaling on an idle machine.
  sed -n '/per-rank work/,/complete/p' "$W/embed$p.log" | grep -v complete
done
echo "embed scaling 1 -> 2 ranks: $(awk -v a="${wall[1]}" -v b="${wall[2]}" 'BEGIN { printf "%.2f", a / b }')x (target >= 1.8)"
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg) (scaling needs 2 idle cores)"
rm -f "$W/e.h5"
