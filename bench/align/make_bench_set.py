#!/usr/bin/python3
"""Samples a train/validation pair from real proteins for the identity-filter benchmark.

Input: a FASTA-like stream "id<TAB>sequence" per line (blastdbcmd -outfmt '%a\t%s' of Debian's
metastudent-data BLAST databases: 486,000 GO-annotated UniProt proteins). Records with letters
outside the 25 ESM residues are dropped; duplicates of an earlier sequence are dropped.
usage: make_bench_set.py OUT_DIR N_TRAIN N_VALID SEED < id_seq.tsv
"""
import random
import sys

ALLOWED = set("ACDEFGHIKLMNPQRSTVWYXBUZO")


def main():
    out, n_train, n_valid, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seen, recs = set(), []
    for line in sys.stdin:
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 2:
            continue
        name, seq = parts[0].replace("BL_ORD_ID:", "seq"), parts[1].upper()
        if not seq or not set(seq) <= ALLOWED or seq in seen:
            continue
        seen.add(seq)
        recs.append((name, seq))
    rng = random.Random(seed)
    rng.shuffle(recs)
    if len(recs) < n_train + n_valid:
        sys.exit(f"only {len(recs)} usable records")
    for fname, part in (("valid.fasta", recs[:n_valid]), ("train.fasta", recs[n_valid:n_valid + n_train])):
        with open(f"{out}/{fname}", "w") as f:
            for name, seq in part:
                f.write(f">{name}\n{seq}\n")


if __name__ == "__main__":
    main()
