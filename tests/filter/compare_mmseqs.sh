#!/bin/bash
# The identity filter against MMseqs2 on real proteins (label mmseqs): 800 train x 60
# validation from data/mini-uniref with real homologs; mmseqs easy-search with the ESM-2 flags
# (identity-filter.md) vs `esmpipe filter`; see compare_mmseqs.py for the criteria.
set -euo pipefail
: "${ESMPIPE_SOURCE_DIR:?}" "${ESMPIPE_EXE:?}" "${ESMPIPE_BINARY_DIR:?}"
command -v mmseqs >/dev/null || { echo "mmseqs not installed (apt-get install mmseqs2)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$ESMPIPE_SOURCE_DIR/tests/filter/make_fixture.py" "$ESMPIPE_SOURCE_DIR" "$work" 800 60 1
mmseqs easy-search "$work/train.fasta" "$work/valid.fasta" "$work/mm.m8" "$work/tmp" \
  --min-seq-id 0.5 --alignment-mode 3 --max-seqs 300 -s 7 -c 0.8 --cov-mode 0 --threads 2 \
  --format-output query,target,fident,alnlen,qstart,qend,qlen,tstart,tend,tlen,evalue,bits >"$work/mm.log" 2>&1 \
  || { tail -20 "$work/mm.log"; exit 1; }
"$ESMPIPE_EXE" filter --query "$work/train.fasta" --target "$work/valid.fasta" --out "$work/removed.tsv" \
  --all-hits "$work/all.m8" --threads 2
# Every ID we remove and MMseqs2 keeps goes through the exhaustive exact aligner.
cut -f1 "$work/mm.m8" | sort -u >"$work/mm.ids"
tail -n +2 "$work/removed.tsv" | cut -f1 | sort -u >"$work/ours.ids"
comm -13 "$work/mm.ids" "$work/ours.ids" >"$work/extra.ids"
"$ESMPIPE_BINARY_DIR/tests/filter/exact_search" "$work/train.fasta" "$work/valid.fasta" "$work/extra.ids" >"$work/exact.m8"
/usr/bin/python3 "$ESMPIPE_SOURCE_DIR/tests/filter/compare_mmseqs.py" "$work/train.fasta" "$work/valid.fasta" \
  "$work/mm.m8" "$work/removed.tsv" "$work/all.m8" "$work/exact.m8"
