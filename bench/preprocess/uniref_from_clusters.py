#!/usr/bin/python3
"""Writes uniref90.fasta.gz, uniref50.fasta.gz and membership.tsv.gz in UniProt's UniRef
format from MMseqs2 cluster tables (rep<TAB>member): the representative's sequence, header
">UniRef90_<acc> Cluster <acc> n=<members> Tax=root TaxID=1 RepID=<acc>_UNK", clusters by
decreasing size (ties: representative accession), 60 residues a line, as UniProt writes them.
usage: uniref_from_clusters.py all.fasta c90_cluster.tsv c50_cluster.tsv OUTDIR"""
import gzip
import sys
from collections import defaultdict


def read_fasta(path):
    seqs, name, parts = {}, None, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if name is not None:
                    seqs[name] = "".join(parts)
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line)
    if name is not None:
        seqs[name] = "".join(parts)
    return seqs


def read_clusters(path):
    members = defaultdict(list)
    with open(path) as f:
        for line in f:
            rep, mem = line.split()
            members[rep].append(mem)
    return members


def write_level(path, level, clusters, sizes, seqs):
    order = sorted(clusters, key=lambda r: (-sizes[r], r))
    with gzip.open(path, "wt", compresslevel=6) as out:
        for rep in order:
            s = seqs[rep]
            out.write(f">UniRef{level}_{rep} Cluster {rep} n={sizes[rep]} Tax=root TaxID=1 RepID={rep}_UNK\n")
            for i in range(0, len(s), 60):
                out.write(s[i:i + 60] + "\n")
    return order


def main():
    fasta, c90, c50, outdir = sys.argv[1:5]
    seqs = read_fasta(fasta)
    u90 = read_clusters(c90)
    u50 = read_clusters(c50)  # members are UniRef90 representatives
    n90 = {r: len(m) for r, m in u90.items()}
    n50 = {r: sum(n90[m] for m in ms) for r, ms in u50.items()}
    write_level(f"{outdir}/uniref90.fasta.gz", 90, u90, n90, seqs)
    order50 = write_level(f"{outdir}/uniref50.fasta.gz", 50, u50, n50, seqs)
    with gzip.open(f"{outdir}/membership.tsv.gz", "wt") as out:
        out.write("uniref90_id\tuniref50_id\n")
        for rep in order50:
            for m in u50[rep]:
                out.write(f"UniRef90_{m}\tUniRef50_{rep}\n")
    print(f"{len(u90)} UniRef90 clusters, {len(u50)} UniRef50 clusters, {len(seqs)} sequences")


if __name__ == "__main__":
    main()
