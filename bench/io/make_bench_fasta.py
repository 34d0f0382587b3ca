#!/usr/bin/python3
"""Writes a large UniRef-style FASTA for the io benchmark from the bundled real sequences:
the mini-UniRef90 records repeated in a seeded shuffled order with new unique IDs, 60 residues
a line, until the file reaches the requested size."""
import gzip
import random
import sys

src, out, target_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = []
with gzip.open(src, "rt") as f:
    header, seq = None, []
    for line in f:
        if line.startswith(">"):
            if header is not None:
                records.append((header, "".join(seq)))
            header, seq = line[1:].rstrip("\n"), []
        else:
            seq.append(line.strip())
    if header is not None:
        records.append((header, "".join(seq)))

rng = random.Random(2026)
written, copy = 0, 0
with open(out, "w") as f:
    while written < target_mb * 1_000_000:
        order = list(range(len(records)))
        rng.shuffle(order)
        chunk = []
        for i in order:
            header, seq = records[i]
            desc = header.split(" ", 1)[1] if " " in header else ""
            chunk.append(f">UniRef90_B{copy}x{i} {desc}\n")
            chunk.extend(seq[j:j + 60] + "\n" for j in range(0, len(seq), 60))
        text = "".join(chunk)
        f.write(text)
        written += len(text)
        copy += 1
print(f"{out}: {written / 1e6:.1f} MB, {copy} copies of {len(records)} records")
