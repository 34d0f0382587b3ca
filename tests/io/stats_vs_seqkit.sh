#!/bin/bash
# `esmpipe stats` (2 MPI ranks) must agree with `seqkit stats -a -T` on real protein data:
# records, residues, min/mean/max length, median (Q2) and N50.
set -eu
exe=${ESMPIPE_EXE:?}
src=${ESMPIPE_SOURCE_DIR:?}
files=("$src"/data/mini-uniref/*.fasta.gz)
db=$(dpkg -L mmseqs2-examples 2>/dev/null | grep '/DB\.fasta\.gz$' | head -1 || true)
if [ -n "$db" ] && [ -f "$db" ]; then files+=("$db"); else echo "note: mmseqs2-examples DB.fasta.gz absent, that case skipped"; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seqkit stats -a -T "${files[@]}" > "$tmp/seqkit.tsv"
mpirun --oversubscribe --bind-to none -n 2 "$exe" stats --json --log-level warn "${files[@]}" > "$tmp/esmpipe.json"
/usr/bin/python3 - "$tmp/seqkit.tsv" "$tmp/esmpipe.json" <<'PY'
import csv, json, sys
seqkit = {r["file"]: r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
ours = {f["file"]: f for f in json.load(open(sys.argv[2]))["files"]}
bad = 0
for name, s in seqkit.items():
    o = ours[name]
    pairs = [("num_seqs", s["num_seqs"], str(o["records"])), ("sum_len", s["sum_len"], str(o["residues"])),
             ("min_len", s["min_len"], str(o["min_len"])), ("max_len", s["max_len"], str(o["max_len"])),
             ("avg_len", s["avg_len"], "%.1f" % o["mean_len"]), ("Q2", s["Q2"], "%.1f" % o["median_len"]),
             ("N50", s["N50"], str(o["n50"]))]
    for field, want, got in pairs:
        if want != got:
            print(f"FAIL {name}: {field} seqkit={want} esmpipe={got}")
            bad += 1
    print(f"{'ok  ' if not bad else 'done'} {name}: " + ", ".join(f"{f}={g}" for f, _, g in pairs))
sys.exit(1 if bad else 0)
PY
