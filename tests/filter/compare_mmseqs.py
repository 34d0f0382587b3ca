#!/usr/bin/python3
"""Compares `esmpipe filter` with `mmseqs easy-search` (the ESM-2 flags) on one train/valid pair.

usage: compare_mmseqs.py TRAIN VALID MMSEQS_M8 OURS_REMOVED_TSV OURS_ALL_HITS EXACT_M8 [--report]
  MMSEQS_M8:  mmseqs hits, columns query,target,fident,alnlen,qstart,qend,qlen,tstart,tend,tlen,evalue,bits
  EXACT_M8:   exact_search output for the IDs we remove and MMseqs2 does not
Checks: recall >= 0.99 of the train IDs MMseqs2 removes; every extra removal is an exact hit;
identity and both coverages within 0.01 for >= 99% of the pairs both report.
Exit 0 when all hold, 1 otherwise. Prints the figures either way.
"""
import sys


def read_m8(path):
    rows = {}
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 12:
                continue
            q, t = c[0], c[1]
            qs, qe, ql, ts, te, tl = map(int, c[4:10])
            rows[(q, t)] = (float(c[2]), (qe - qs + 1) / ql, (te - ts + 1) / tl)
    return rows


def main():
    mm = read_m8(sys.argv[3])
    ours_removed = set()
    with open(sys.argv[4]) as f:
        header = next(f)
        assert header.startswith("train_id\tval_id\tidentity\tqcov\ttcov\tevalue"), header
        for line in f:
            ours_removed.add(line.split("\t")[0])
    ours_all = read_m8(sys.argv[5])
    exact = read_m8(sys.argv[6])
    mm_removed = {q for q, _ in mm}
    shared = mm_removed & ours_removed
    recall = len(shared) / len(mm_removed) if mm_removed else 1.0
    extra = sorted(ours_removed - mm_removed)
    exact_q = {q for q, _ in exact}
    unconfirmed = [q for q in extra if q not in exact_q]
    pairs = set(mm) & set(ours_all)
    close = 0
    for p in pairs:
        a, b = mm[p], ours_all[p]
        if all(abs(x - y) <= 0.01 + 1e-9 for x, y in zip(a, b)):
            close += 1
    agree = close / len(pairs) if pairs else 1.0
    print(f"mmseqs removes {len(mm_removed)}, esmpipe removes {len(ours_removed)}, both {len(shared)}")
    print(f"recall {recall:.4f}; extra removals {len(extra)} (confirmed by the exact aligner: "
          f"{len(extra) - len(unconfirmed)})")
    print(f"shared pairs {len(pairs)}; identity/qcov/tcov within 0.01: {close} ({agree:.4f})")
    missed = sorted(mm_removed - ours_removed)
    if missed:
        print("missed:", " ".join(missed[:20]))
    if unconfirmed:
        print("UNCONFIRMED extra removals:", " ".join(unconfirmed[:20]))
    ok = recall >= 0.99 and not unconfirmed and agree >= 0.99 and len(mm_removed) > 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
