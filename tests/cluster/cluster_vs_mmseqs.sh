#!/bin/bash
# esmpipe cluster against `mmseqs easy-linclust` (same thresholds) on whole UniRef50 clusters of
# mini-uniref: cluster count within 5%, a well-formed clusters.tsv / reps FASTA, and every
# member-representative pair accepted by the exact scalar aligner (0 violations).
# Usage: cluster_vs_mmseqs.sh ESM_CLUSTER_PAIRS
set -euo pipefail
pairs_tool=$1
src=$ESMPIPE_SOURCE_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/tests/cluster/make_subset.py" "$src/data/mini-uniref" "$tmp/sub" 4
in=$tmp/sub/uniref90.fasta
n_in=$(grep -c '>' "$in")

"$ESMPIPE_EXE" cluster --in "$in" --out "$tmp/c.tsv" --reps "$tmp/r.fasta" --min-seq-id 0.5 -c 0.8 --cov-mode 1 --threads 2
mmseqs easy-linclust "$in" "$tmp/lc" "$tmp/mm" --min-seq-id 0.5 -c 0.8 --cov-mode 1 --threads 2 -v 1 >/dev/null

ours=$(cut -f1 "$tmp/c.tsv" | sort -u | wc -l)
theirs=$(cut -f1 "$tmp/lc_cluster.tsv" | sort -u | wc -l)
echo "sequences $n_in clusters: esmpipe $ours, mmseqs easy-linclust $theirs"
awk -v a="$ours" -v b="$theirs" 'BEGIN { d = (a - b) / b; printf "difference %.2f%%\n", 100 * d; exit (d < -0.05 || d > 0.05) }'

# Every input sequence exactly once as a member; representatives are their own members and
# are exactly the reps FASTA, in input order.
[ "$(wc -l < "$tmp/c.tsv")" -eq "$n_in" ]
[ "$(cut -f2 "$tmp/c.tsv" | sort | uniq -d | wc -l)" -eq 0 ]
diff <(grep '>' "$in" | cut -c2- | cut -d' ' -f1 | sort) <(cut -f2 "$tmp/c.tsv" | sort)
diff <(awk -F'\t' '$1 == $2 { print $1 }' "$tmp/c.tsv") <(grep '>' "$tmp/r.fasta" | cut -c2- | cut -d' ' -f1)
diff <(cut -f1 "$tmp/c.tsv" | uniq) <(awk -F'\t' '$1 == $2 { print $1 }' "$tmp/c.tsv")
diff <(grep '>' "$tmp/r.fasta" | cut -c2- | cut -d' ' -f1) \
     <(grep '>' "$in" | cut -c2- | cut -d' ' -f1 | grep -Fxf <(cut -f1 "$tmp/c.tsv" | sort -u))

# The exact scalar aligner must accept every pair we output.
"$pairs_tool" --min-seq-id 0.5 -c 0.8 --cov-mode 1 "$in" "$in" "$tmp/c.tsv"
