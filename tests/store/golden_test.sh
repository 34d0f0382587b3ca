#!/bin/bash
# Golden check through the CLI and readers we did not write: the store's values (read with
# h5py) match the reference ESM-2 vectors in data/golden within 1e-4; h5dump and h5py read a
# zstd store through the shipped plugin and see the same values as the uncompressed one.
source "$(dirname "$0")/common.sh"
fa=$G/sequences.fasta
# Default truncation (1022): TEST09 is compared with its trunc1022 references.
run 2 embed --model "$G" --fasta "$fa" --out "$W/t.h5" --threads 1 --log-level warn
"$PY" "$HERE/golden_check.py" "$W/t.h5" "$G" 1022
# No truncation, every output: per-residue of every layer, means, logits, contacts.
run 2 embed --model "$G" --fasta "$fa" --out "$W/all.h5" --threads 1 --layers 0,1,-1 --logits --contacts \
  --max-residues 2000 --log-level warn
"$PY" "$HERE/golden_check.py" "$W/all.h5" "$G" 2000
# Compressed copy: readable by h5py and h5dump only through HDF5_PLUGIN_PATH, same values.
run 3 embed --model "$G" --fasta "$fa" --out "$W/z.h5" --threads 1 --layers 0,1,-1 --logits --contacts \
  --max-residues 2000 --compression zstd:7 --log-level warn
"$PY" "$HERE/golden_check.py" "$W/z.h5" "$G" 2000
"$PY" - "$W/all.h5" "$W/z.h5" <<'PYEOF'
import sys, h5py, numpy as np
a, z = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
d = z["layers/2/per_residue"]
assert "32015" in d._filters, d._filters
for name in ["layers/0/per_residue", "layers/2/mean", "logits", "contacts/data"]:
    assert np.array_equal(a[name][()], z[name][()]), name
print("h5py reads the zstd store through the plugin: identical to the uncompressed one")
PYEOF
h5dump -d /layers/2/mean "$W/z.h5" > "$W/z.txt" || fail "h5dump cannot read the zstd store"
h5dump -d /layers/2/mean "$W/all.h5" > "$W/a.txt"
cmp <(tail -n +2 "$W/z.txt") <(tail -n +2 "$W/a.txt") || fail "h5dump sees different values"
if HDF5_PLUGIN_PATH=/nonexistent h5dump -d /layers/2/mean "$W/z.h5" > /dev/null 2>&1; then
  fail "h5dump read the zstd store without the plugin (is the filter really applied?)"
fi
# Lookup by ID through /index and `esmpipe show`.
"$E" show "$W/all.h5" --id UniRef50_TEST05 --layer 2 > "$W/show.txt"
"$PY" - "$W/show.txt" "$G" <<'PYEOF'
import sys, numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
mean = np.array([float(x) for x in rows[0][1:]], dtype=np.float32)
res = np.array([[float(x) for x in r[2:]] for r in rows[1:]], dtype=np.float32)
ref = np.load(f"{sys.argv[2]}/TEST05.repr.npy")[2, 1:-1]
assert res.shape == ref.shape, (res.shape, ref.shape)
assert np.allclose(res, ref, atol=1e-4, rtol=1e-4) and np.allclose(mean, np.load(f"{sys.argv[2]}/TEST05.mean.npy"), atol=1e-4)
print("show --id prints the golden vectors")
PYEOF
echo "golden test: ok"
