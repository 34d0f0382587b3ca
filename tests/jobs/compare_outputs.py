#!/usr/bin/python3
"""Compares two job outputs: `compare_outputs.py store A.h5 B.h5` or `compare_outputs.py dir A B`.

store: every dataset must have the same shape, type and bytes, and every root attribute the same
value, except the provenance attributes that name the run (command line, time, input path, the
last run's statistics). dir: every file but manifest.json byte-identical, and the manifests'
output fingerprints equal. Exit 0 when equal, 1 with the first differences otherwise."""
import os
import sys

import h5py
import numpy as np

PROVENANCE = {"command_line", "created", "input_path", "last_run"}


def compare_stores(a_path, b_path):
    problems = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for k in sorted(set(a.attrs) | set(b.attrs)):
            if k in PROVENANCE:
                continue
            if k not in a.attrs or k not in b.attrs:
                problems.append(f"attribute {k} only in one store")
            elif not np.array_equal(np.asarray(a.attrs[k]), np.asarray(b.attrs[k])):
                problems.append(f"attribute {k}: {a.attrs[k]!r} != {b.attrs[k]!r}")
        names_a, names_b = [], []
        a.visititems(lambda n, o: names_a.append(n) if isinstance(o, h5py.Dataset) else None)
        b.visititems(lambda n, o: names_b.append(n) if isinstance(o, h5py.Dataset) else None)
        if sorted(names_a) != sorted(names_b):
            problems.append(f"datasets differ: {sorted(names_a)} vs {sorted(names_b)}")
        for n in sorted(set(names_a) & set(names_b)):
            da, db = a[n], b[n]
            if da.shape != db.shape or da.dtype != db.dtype:
                problems.append(f"{n}: shape/type {da.shape} {da.dtype} != {db.shape} {db.dtype}")
                continue
            va, vb = da[()], db[()]
            if va.dtype.kind == "O":
                same = list(va) == list(vb)
            else:
                same = va.tobytes() == vb.tobytes()
            if not same:
                problems.append(f"{n}: values differ")
        print(f"compared {len(names_a)} datasets of {a_path} and {b_path}")
    return problems


def compare_dirs(a_dir, b_dir):
    import json
    problems = []
    fa, fb = sorted(os.listdir(a_dir)), sorted(os.listdir(b_dir))
    if fa != fb:
        problems.append(f"file lists differ: {fa} vs {fb}")
    for f in sorted(set(fa) & set(fb)):
        if f == "manifest.json":
            continue
        with open(os.path.join(a_dir, f), "rb") as x, open(os.path.join(b_dir, f), "rb") as y:
            if x.read() != y.read():
                problems.append(f"{f} differs")
    with open(os.path.join(a_dir, "manifest.json")) as x, open(os.path.join(b_dir, "manifest.json")) as y:
        ma, mb = json.load(x), json.load(y)
    if ma.get("outputs") != mb.get("outputs"):
        problems.append("manifest outputs (sizes, sha256) differ")
    if ma.get("parameters") != mb.get("parameters"):
        problems.append("manifest parameters differ")
    print(f"compared {len(fa)} files of {a_dir} and {b_dir}")
    return problems


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("store", "dir"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, a, b = sys.argv[1:]
    problems = compare_stores(a, b) if kind == "store" else compare_dirs(a, b)
    for p in problems[:20]:
        print("DIFFERENT:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
