#!/bin/bash
# Clustering benchmark: esmpipe cluster against `mmseqs easy-linclust` (2 threads) on the same
# input in one run, 1 -> 2 rank scaling, cluster counts, exact-aligner violations, peak RSS per
# rank; on mini-uniref also the UniRef90 -> UniRef50 assignment against membership.tsv.
#
#   bench/cluster/run_bench.sh BUILD_DIR [mini|meta|all]
# Sets: mini = data/mini-uniref/uniref90.fasta.gz (14,504 sequences); meta = the first
# $BENCH_META_N (default 250000) proteins of Debian's metastudent-data (GO BPO training set,
# extracted with blastdbcmd from ncbi-blast+; scripts/packages/bench.txt).
# BENCH_META_SCALING=0 skips the 1-rank runs on meta (a loaded machine); BENCH_META_SAMPLE sets
# how many of its member-representative pairs the exact aligner re-checks (default 5000);
# BENCH_REPEATS (default 3) how often each configuration runs (medians reported).
# Prints one block per set with both wall times and their ratio, and what the identity gate
# changes (a 1 rank x 2 threads run with --identity-gate 0: every candidate pair aligned).
set -euo pipefail
build=$(cd "${1:?usage: run_bench.sh BUILD_DIR [mini|meta|all]}" && pwd)
which_sets=${2:-all}
src=$(cd "$(dirname "$0")/../.." && pwd)
exe=$build/src/cli/esmpipe
pairs_tool=$build/tests/cluster/esm_cluster_pairs
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One machine: Open MPI's ob1 over shared memory, as `esmpipe run` launches it (the default
# first probes for UCX devices: 0.2 s more per launch, for 1 and 2 ranks alike).
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
mpirun=(mpirun --oversubscribe --bind-to none)
work=$(mktemp -d /tmp/esm_cluster_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
params=(--min-seq-id 0.5 -c 0.8 --cov-mode 1)
repeats=${BENCH_REPEATS:-3}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
clusters() { cut -f1 "$1" | sort -u | wc -l; }
# Runs esmpipe on N ranks with each rank's /usr/bin/time line in its own file PREFIX.RANK (ranks
# share stderr, where their lines could interleave): timed PREFIX N ARGS...
timed() {
  local prefix=$1 n=$2
  shift 2
  rm -f "$prefix".*
  "${mpirun[@]}" -n "$n" sh -c 'exec /usr/bin/time -f "RSS %M CPU %U %S" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
      "$prefix" "$exe" "$@"
}
# peak RSS (MiB) of the largest rank and CPU seconds of all ranks, from those files
peak_rss() { cat "$1".* | awk '/^RSS / { if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }'; }
cpu_s() { cat "$1".* | awk '/^RSS / { c += $4 + $5 } END { printf "%.1f", c }'; }

run_set() {  # run_set NAME FASTA PAIR_SAMPLE(empty: all) SCALING(1: also the 1-rank runs)
  local name=$1 in=$2 sample=$3 scaling=$4
  local n; n=$(grep -c '>' "$in")
  local res; res=$(grep -v '>' "$in" | tr -d '\n' | wc -c)
  echo "== $name: $n sequences, $res residues ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), $(date -u +%FT%TZ))"

  # Each timed run $repeats times, the configurations alternating, so that drift in the machine's
  # speed hits all alike; the median is reported (all runs listed below it).
  local -A runs=()
  # ours KEY RANKS ARGS...: one esmpipe cluster run, outputs and logs named by KEY, wall time kept.
  # Every run writes the representatives FASTA too, as easy-linclust writes its _rep_seq.fasta.
  ours() {
    local key=$1 ranks=$2 t
    shift 2
    t=$(now)
    timed "$work/$name.$key.time" "$ranks" cluster --in "$in" --out "$work/$name.$key.tsv" "${params[@]}" \
        --reps "$work/$name.$key.reps.fasta" --overwrite "$@" 2> "$work/$name.$key.log"
    runs[$key]+="$(elapsed "$t") "
  }
  local rep t
  for ((rep = 1; rep <= repeats; rep++)); do
    t=$(now)
    /usr/bin/time -f 'RSS %M CPU %U %S' -o "$work/$name.mm.time.0" \
      mmseqs easy-linclust "$in" "$work/$name.lc" "$work/$name.mmtmp" "${params[@]}" --threads 2 -v 1 > /dev/null
    runs[mm]+="$(elapsed "$t") "
    rm -rf "$work/$name.mmtmp"
    if [ "$scaling" = 1 ]; then
      ours t2 1 --threads 2 --log-level warn
      ours g0 1 --identity-gate 0 --threads 2 --log-level warn
      ours r1 1 --threads 1 --log-level warn
    fi
    ours r2 2 --threads 1 --log-level info
  done
  median() { tr ' ' '\n' <<< "${runs[$1]:-0}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  local t_mm t_t2 t_g0 t_r1 t_r2
  t_mm=$(median mm) t_t2=$(median t2) t_g0=$(median g0) t_r1=$(median r1) t_r2=$(median r2)
  grep -E 'rank [0-9]+: .* candidate pairs' "$work/$name.r2.log" | sed 's/^/  /' || true
  [ "$scaling" = 1 ] && { "$pairs_tool" "${params[@]}" ${sample:+--sample $sample} "$in" "$in" "$work/$name.g0.tsv" | tail -1 | sed 's/^/  gate off: /'; } || true

  local same="not run (no 1-rank runs)"
  if [ "$scaling" = 1 ]; then
    same=yes
    for ext in tsv reps.fasta; do
      cmp -s "$work/$name.t2.$ext" "$work/$name.r1.$ext" || same=NO
      cmp -s "$work/$name.r1.$ext" "$work/$name.r2.$ext" || same=NO
    done
  fi
  local c_ours c_mm
  c_ours=$(clusters "$work/$name.r2.tsv")
  c_mm=$(clusters "$work/$name.lc_cluster.tsv")
  local check
  check=$("$pairs_tool" "${params[@]}" ${sample:+--sample $sample} "$in" "$in" "$work/$name.r2.tsv" | tail -1) || true

  printf '  mmseqs easy-linclust, 2 threads        %8.2f s   %d clusters   CPU %s s\n' "$t_mm" "$c_mm" "$(cpu_s "$work/$name.mm.time")"
  if [ "$scaling" = 1 ]; then
    printf '  esmpipe cluster, 1 rank x 2 threads    %8.2f s   speed-up vs linclust %.2fx   CPU %s s\n' \
        "$t_t2" "$(awk -v a="$t_mm" -v b="$t_t2" 'BEGIN{print a/b}')" "$(cpu_s "$work/$name.t2.time")"
    printf '  same, --identity-gate 0 (align all)    %8.2f s   %d clusters   speed-up vs linclust %.2fx   CPU %s s   gate saves %.2fx\n' \
        "$t_g0" "$(clusters "$work/$name.g0.tsv")" "$(awk -v a="$t_mm" -v b="$t_g0" 'BEGIN{print a/b}')" "$(cpu_s "$work/$name.g0.time")" \
        "$(awk -v a="$t_g0" -v b="$t_t2" 'BEGIN{print a/b}')"
    printf '  esmpipe cluster, 1 rank x 1 thread     %8.2f s   peak RSS %s MiB   CPU %s s\n' "$t_r1" \
        "$(peak_rss "$work/$name.r1.time")" "$(cpu_s "$work/$name.r1.time")"
  fi
  printf '  esmpipe cluster, 2 ranks x 1 thread    %8.2f s   %d clusters   peak RSS %s MiB/rank   speed-up vs linclust %.2fx   CPU %s s\n' \
      "$t_r2" "$c_ours" "$(peak_rss "$work/$name.r2.time")" "$(awk -v a="$t_mm" -v b="$t_r2" 'BEGIN{print a/b}')" "$(cpu_s "$work/$name.r2.time")"
  [ "$scaling" = 1 ] && printf '  scaling 1 -> 2 ranks                   %.2fx\n' "$(awk -v a="$t_r1" -v b="$t_r2" 'BEGIN{print a/b}')"
  printf '  cluster count difference vs linclust   %+.2f%%\n' "$(awk -v a="$c_ours" -v b="$c_mm" 'BEGIN{print 100*(a-b)/b}')"
  echo "  outputs (clusters and reps FASTA) identical for 1x2, 1x1, 2x1: $same"
  echo "  all runs (s; median above): linclust ${runs[mm]}| 1x2 ${runs[t2]:-}| gate off ${runs[g0]:-}| 1x1 ${runs[r1]:-}| 2x1 ${runs[r2]}"
  echo "  exact scalar aligner on member-rep pairs${sample:+ (sample of $sample)}: $check"
}

run_assign() {
  local d=$src/data/mini-uniref
  zcat "$d/uniref90.fasta.gz" > "$work/u90.fasta"
  zcat "$d/uniref50.fasta.gz" > "$work/u50.fasta"
  echo "== mini-uniref assignment: UniRef90 -> UniRef50 by alignment vs membership.tsv.gz"
  local t; t=$(now)
  "${mpirun[@]}" -n 2 "$exe" cluster --in "$work/u90.fasta" --assign-to "$work/u50.fasta" --out "$work/assign.tsv" \
      --threads 1 --log-level warn
  echo "  wall $(elapsed "$t") s (2 ranks x 1 thread)"
  zcat "$d/membership.tsv.gz" | tail -n +2 | sort > "$work/ref.tsv"
  tail -n +2 "$work/assign.tsv" | sort > "$work/ours.tsv"
  join -t $'\t' -a1 "$work/ref.tsv" "$work/ours.tsv" > "$work/joined.tsv"
  awk -F'\t' '{ n++; if (NF == 3) p++; if ($2 == $3) s++ }
              END { printf "  members %d, placed %d, same rep as membership.tsv %d: agreement %.4f\n", n, p, s, s/n }' "$work/joined.tsv"
  # Disagreements explained: does the membership's own pair pass the rule under the exact aligner?
  awk -F'\t' 'NF == 2 { print $2 "\t" $1 }' "$work/joined.tsv" > "$work/unplaced.tsv"
  awk -F'\t' 'NF == 3 && $2 != $3 { print $2 "\t" $1; print $3 "\t" $1 > "'"$work/ours_other.tsv"'" }' "$work/joined.tsv" > "$work/other.tsv"
  "$pairs_tool" --explain "$work/u50.fasta" "$work/u90.fasta" "$work/unplaced.tsv" |
    awk -F'\t' 'NF > 3 { n++; if ($3 == 1) ok++ } END { printf "  unplaced %d: membership pair passes the rule %d (our k-mer candidates missed it), fails %d\n", n, ok, n - ok }'
  if [ -s "$work/other.tsv" ]; then
    paste <("$pairs_tool" --explain "$work/u50.fasta" "$work/u90.fasta" "$work/other.tsv" | grep -v '^checked') \
          <("$pairs_tool" --explain "$work/u50.fasta" "$work/u90.fasta" "$work/ours_other.tsv" | grep -v '^checked') |
      awk -F'\t' '{ n++; if ($3 == 0) fail++; else if ($11 > $4) higher++; else if ($11 == $4) tie++; else lower++ }
                  END { printf "  placed elsewhere %d: membership pair fails the rule %d, ours has higher identity %d, equal %d, lower %d\n", n, fail, higher, tie, lower }'
  fi
}

if [ "$which_sets" = mini ] || [ "$which_sets" = all ]; then
  zcat "$src/data/mini-uniref/uniref90.fasta.gz" > "$work/mini.fasta"
  run_set mini "$work/mini.fasta" "" 1
  run_assign
fi
if [ "$which_sets" = meta ] || [ "$which_sets" = all ]; then
  db=/usr/share/metastudent-data/dataset_201401/BPO/goasp.fasta
  if [ ! -e "$db.psq" ] || ! command -v blastdbcmd > /dev/null; then
    echo "== meta: SKIPPED (apt-get install metastudent-data ncbi-blast+)"
  else
    # awk stops reading after N records: blastdbcmd then dies of SIGPIPE, which is expected.
    (blastdbcmd -db "$db" -entry all -outfmt $'>%a\n%s' || true) |
      awk -v n="${BENCH_META_N:-250000}" '/^>/ { if (++c > n) exit } { print }' > "$work/meta.fasta"
    run_set meta "$work/meta.fasta" "${BENCH_META_SAMPLE:-5000}" "${BENCH_META_SCALING:-1}"
  fi
fi
