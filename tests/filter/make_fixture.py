#!/usr/bin/python3
"""Builds a train/validation pair of FASTA files from real proteins (data/mini-uniref).

Validation: UniRef90 representatives drawn from UniRef50 clusters that have other members, so
the train set holds real homologs of them (UniRef90 reps of one UniRef50 cluster are >= 50%
identical by construction, many lower-identity relatives sit in neighbouring clusters). Train:
those other members plus random other proteins. Deterministic for a given seed.

usage: make_fixture.py SOURCE_DIR OUT_DIR N_TRAIN N_VALID [SEED]
"""
import gzip
import random
import sys


def read_fasta(path):
    recs, name, seq = [], None, []
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if name is not None:
                    recs.append((name, "".join(seq)))
                name, seq = line[1:].split()[0], []
            else:
                seq.append(line)
    if name is not None:
        recs.append((name, "".join(seq)))
    return recs


def main():
    src, out, n_train, n_valid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rng = random.Random(seed)
    recs = read_fasta(f"{src}/data/mini-uniref/uniref90.fasta.gz")
    seqs = dict(recs)
    cluster = {}
    with gzip.open(f"{src}/data/mini-uniref/membership.tsv.gz", "rt") as f:
        next(f)
        for line in f:
            u90, u50 = line.split()
            cluster.setdefault(u50, []).append(u90)
    multi = sorted(c for c, m in cluster.items() if len(m) >= 2)
    rng.shuffle(multi)
    valid, train = [], []
    for c in multi:
        if len(valid) == n_valid:
            break
        members = [m for m in cluster[c] if m in seqs]
        if len(members) < 2:
            continue
        rng.shuffle(members)
        valid.append(members[0])
        train.extend(members[1:])
    train = train[: n_train // 2]
    used = set(valid) | set(train)
    others = [n for n, _ in recs if n not in used]
    rng.shuffle(others)
    train.extend(others[: n_train - len(train)])
    rng.shuffle(train)
    for name, ids in (("train.fasta", train), ("valid.fasta", valid)):
        with open(f"{out}/{name}", "w") as f:
            for i in ids:
                s = seqs[i]
                f.write(f">{i}\n")
                for k in range(0, len(s), 60):
                    f.write(s[k : k + 60] + "\n")


if __name__ == "__main__":
    main()
