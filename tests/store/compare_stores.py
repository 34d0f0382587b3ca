#!/usr/bin/python3
"""Byte-for-byte comparison of every dataset (and the content attributes) of two stores.

usage: compare_stores.py A.h5 B.h5 [--allow-incomplete]
Exit 0 when both hold the same datasets with the same shapes, dtypes and bytes."""
import sys

import h5py
import numpy as np

# Provenance differs between runs by design; everything else must match.
PROVENANCE = {"created", "command_line", "last_run", "tool_version", "input_path"}


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
problems = []
da, db = datasets(a), datasets(b)
if sorted(da) != sorted(db):
    problems.append(f"dataset lists differ: {sorted(set(da) ^ set(db))}")
for name in sorted(set(da) & set(db)):
    x, y = da[name], db[name]
    if x.shape != y.shape or x.dtype != y.dtype:
        problems.append(f"{name}: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
        continue
    vx, vy = x[()], y[()]
    if x.dtype.kind == "O":
        same = list(vx) == list(vy)
    else:
        same = np.asarray(vx).tobytes() == np.asarray(vy).tobytes()
    if not same:
        problems.append(f"{name}: contents differ")
for k in sorted(set(a.attrs) | set(b.attrs)):
    if k in PROVENANCE:
        continue
    if k not in a.attrs or k not in b.attrs or a.attrs[k] != b.attrs[k]:
        problems.append(f"attribute {k}: {a.attrs.get(k)!r} vs {b.attrs.get(k)!r}")
if problems:
    print(f"{sys.argv[1]} vs {sys.argv[2]}:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"identical: {len(da)} datasets of {sys.argv[1]} and {sys.argv[2]}")
