#!/usr/bin/python3
"""Checks an embedding store made from data/golden/esm2-public/sequences.fasta against the
golden .npy files of the reference ESM-2 (atol 1e-4, rtol 1e-4).

usage: golden_check.py STORE GOLDEN_DIR MAX_RESIDUES
Reads the store with h5py only, as a user would. Exit 0 when every checked value matches."""
import json
import sys

import h5py
import numpy as np

store, gdir, max_res = sys.argv[1], sys.argv[2], int(sys.argv[3])
atol = rtol = 1e-4
manifest = json.load(open(f"{gdir}/manifest.json"))
f = h5py.File(store, "r")
assert f.attrs["format"] == "esmpipe.embeddings", "format attribute"
assert int(f.attrs["complete"]) == 1, "store is not complete"
L = int(f.attrs["num_layers"])
ids = [s.decode() if isinstance(s, bytes) else s for s in f["sequences/id"][:]]
off = f["sequences/offset"][:]
length = f["sequences/length"][:]
checked = 0
bad = []


def close(name, got, want):
    global checked
    checked += 1
    if got.shape != want.shape:
        bad.append(f"{name}: shape {got.shape} vs golden {want.shape}")
    elif not np.allclose(got, want, atol=atol, rtol=rtol):
        bad.append(f"{name}: max abs diff {np.max(np.abs(got - want)):.3g}")


for seq in manifest["sequences"]:
    sid, files = seq["id"], seq["files"]
    i = next(k for k, x in enumerate(ids) if x.endswith("_" + sid) or x == sid)
    n = seq["num_residues"]
    rows = slice(off[i], off[i + 1])
    has = lambda p: p in f
    if n > max_res:
        # Truncated to the first max_res residues: only the 1022 reference exists.
        if max_res != 1022:
            continue
        assert length[i] == 1022, f"{sid}: truncated length {length[i]}"
        if has(f"layers/{L}/mean"):
            close(f"{sid} trunc1022 mean", f[f"layers/{L}/mean"][i].astype(np.float32), np.load(f"{gdir}/{sid}.trunc1022.mean.npy"))
        if has(f"layers/{L}/per_residue"):
            close(f"{sid} trunc1022 last", f[f"layers/{L}/per_residue"][rows].astype(np.float32),
                  np.load(f"{gdir}/{sid}.trunc1022.last.npy")[1:-1])
        continue
    assert length[i] == n, f"{sid}: length {length[i]} != {n}"
    if "repr" in files:
        rep = np.load(f"{gdir}/{sid}.repr.npy")
        for k in f["layers"].keys():
            if has(f"layers/{k}/per_residue"):
                close(f"{sid} layer {k} per_residue", f[f"layers/{k}/per_residue"][rows].astype(np.float32), rep[int(k), 1:-1])
            if has(f"layers/{k}/mean"):
                close(f"{sid} layer {k} mean", f[f"layers/{k}/mean"][i].astype(np.float32), rep[int(k), 1:-1].mean(axis=0))
    elif has(f"layers/{L}/per_residue"):
        close(f"{sid} last per_residue", f[f"layers/{L}/per_residue"][rows].astype(np.float32), np.load(f"{gdir}/{sid}.last.npy")[1:-1])
    if has(f"layers/{L}/mean"):
        close(f"{sid} mean", f[f"layers/{L}/mean"][i].astype(np.float32), np.load(f"{gdir}/{sid}.mean.npy"))
    if has("logits"):
        close(f"{sid} logits", f["logits"][rows], np.load(f"{gdir}/{sid}.logits.npy")[1:-1])
    if has("contacts/data"):
        co = f["contacts/offset"]
        c = f["contacts/data"][co[i]:co[i + 1]].reshape(n, n)
        if "contacts" in files:
            close(f"{sid} contacts", c, np.load(f"{gdir}/{sid}.contacts.npy"))
        else:
            close(f"{sid} contacts block", c[:128, :128], np.load(f"{gdir}/{sid}.contacts_block.npy"))

if bad:
    print("golden mismatches:\n  " + "\n  ".join(bad))
    sys.exit(1)
if checked == 0:
    print("nothing was checked")
    sys.exit(1)
print(f"golden check: {checked} arrays match within atol {atol}, rtol {rtol}")
