#!/usr/bin/python3
"""Whole UniRef50 clusters of data/mini-uniref as a smaller real test set.

make_subset.py MINI_UNIREF_DIR OUT_DIR EVERY
Keeps the UniRef50 clusters whose position in uniref50.fasta.gz is a multiple of EVERY, and
writes OUT_DIR/uniref90.fasta (their UniRef90 members, in input order), OUT_DIR/uniref50.fasta
(those representatives) and OUT_DIR/membership.tsv (the matching membership lines). Whole
clusters keep the redundancy of the full set, so clustering results stay representative.
"""
import gzip
import os
import sys


def records(path):
    with gzip.open(path, "rt") as f:
        header, seq = None, []
        for line in f:
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(seq)
                header, seq = line.rstrip("\n"), []
            else:
                seq.append(line.strip())
        if header is not None:
            yield header, "".join(seq)


def main():
    src, out, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    kept50 = set()
    with open(os.path.join(out, "uniref50.fasta"), "w") as f:
        for i, (h, s) in enumerate(records(os.path.join(src, "uniref50.fasta.gz"))):
            if i % every == 0:
                kept50.add(h[1:].split()[0])
                f.write(f"{h}\n{s}\n")
    kept90 = set()
    with gzip.open(os.path.join(src, "membership.tsv.gz"), "rt") as f, open(os.path.join(out, "membership.tsv"), "w") as o:
        o.write(next(f))
        for line in f:
            u90, u50 = line.rstrip("\n").split("\t")
            if u50 in kept50:
                kept90.add(u90)
                o.write(line)
    with open(os.path.join(out, "uniref90.fasta"), "w") as f:
        for h, s in records(os.path.join(src, "uniref90.fasta.gz")):
            if h[1:].split()[0] in kept90:
                f.write(f"{h}\n{s}\n")


if __name__ == "__main__":
    main()
