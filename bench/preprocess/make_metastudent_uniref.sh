#!/usr/bin/env bash
# Builds a UniRef-format release (UniRef50/UniRef90 FASTA + membership TSV) of about 600,000
# real UniProt sequences from Debian's metastudent-data BLAST databases, the same way
# data/mini-uniref was made (see its README): MMseqs2 easy-cluster at 90% identity over all
# sequences for UniRef90, then at 50% over the UniRef90 representatives for UniRef50.
#   usage: [MODE=cluster|linclust] make_metastudent_uniref.sh OUTDIR [THREADS]
# MODE=cluster (default) is mini-uniref's recipe (easy-cluster); on 2 shared cores its cascaded
# search over 516k sequences takes hours, so MODE=linclust (easy-linclust, same thresholds,
# linear time, somewhat fewer merges) is the quick variant -- the clusters only shape the
# benchmark's workload (cluster sizes, membership), not any correctness check.
#   needs: apt-get install metastudent-data ncbi-blast+ mmseqs2 seqkit   (scripts/packages/bench.txt)
# The result is cached in OUTDIR (delete c90_cluster.tsv / c50_cluster.tsv to recluster).
set -euo pipefail
out=${1:?usage: make_metastudent_uniref.sh OUTDIR [THREADS]}
threads=${2:-2}
mode=${MODE:-cluster}
case $mode in cluster | linclust) ;; *) echo "MODE must be cluster or linclust" >&2; exit 2 ;; esac
src=/usr/share/metastudent-data/dataset_201401
mkdir -p "$out"
cd "$out"
if [ ! -s all.fasta ]; then
  # Headers are "ACCESSION|GO terms"; the three ontologies share most proteins: keep one copy.
  for c in BPO CCO MFO; do
    blastdbcmd -db "$src/$c/goasp.fasta" -entry all
  done | sed -e '/^>/s/|.*//' | seqkit seq --upper-case -w 0 | seqkit rmdup -n -o all.fasta.tmp
  mv all.fasta.tmp all.fasta
fi
seqkit stats all.fasta
if [ ! -s c90_cluster.tsv ]; then
  mmseqs "easy-$mode" all.fasta c90 tmp90 --min-seq-id 0.9 -c 0.8 --cov-mode 1 --threads "$threads" >mmseqs90.log
  rm -rf tmp90
fi
if [ ! -s c50_cluster.tsv ]; then
  mmseqs "easy-$mode" c90_rep_seq.fasta c50 tmp50 --min-seq-id 0.5 -c 0.8 --cov-mode 1 --threads "$threads" >mmseqs50.log
  rm -rf tmp50
fi
/usr/bin/python3 "$(dirname "$0")/uniref_from_clusters.py" all.fasta c90_cluster.tsv c50_cluster.tsv .
ls -la uniref50.fasta.gz uniref90.fasta.gz membership.tsv.gz
