#!/usr/bin/python3
"""Reads back the outputs of `esmpipe preprocess` and checks every rule of the contract
(docs/FORMATS.md, preprocess) against the inputs, re-deriving what can be re-derived without
esmpipe's code: the validation choice (counter hash), cluster membership and member order,
crops, mapping rows, starts/counts, record offsets, orphans, manifest counts and digests.
The identity filter's decisions are taken from removed.tsv and checked for consistency (right
sets, thresholds, order); their agreement with MMseqs2 is the filter's own test.

usage: check_outputs.py --out DIR --uniref50 F --uniref90 F --membership F
                        [--sample FILE --epoch E --sample-seed S]
Exit 0 when every check passes; otherwise prints each failure and exits 1."""
import argparse
import gzip
import hashlib
import json
import os
import struct
import sys

M64 = (1 << 64) - 1
STREAM_VALIDATION = 0x76616C6964
STREAM_CROP50 = 0x63726F7035
STREAM_CROP90 = 0x63726F7039
STREAM_EPOCH_ORDER = 0x6F72646572
STREAM_EPOCH_MEMBER = 0x6D656D626572

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        if len(failures) > 50:
            report()
    return cond


def report():
    for f in failures[:50]:
        print("FAIL:", f)
    print(f"{len(failures)} failure(s)")
    sys.exit(1)


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def counter_hash(seed, stream, counter, counter2=0):
    h = mix64(seed ^ mix64(stream))
    h = mix64(h ^ counter)
    return mix64(h ^ mix64((counter2 + 0x2545F4914F6CDD1D) & M64))


def uniform_below(h, n):
    return (h * n) >> 64


def feistel(n, key):
    bits = 2
    while bits < 64 and (1 << bits) < n:
        bits += 1
    if bits & 1:
        bits += 1
    half = bits // 2
    mask = (1 << half) - 1

    def enc(x):
        left, right = x >> half, x & mask
        for rnd in range(4):
            f = mix64(key ^ mix64(((rnd << 56) ^ right) & M64)) & mask
            left, right = right, left ^ f
        return (left << half) | right

    def perm(i):
        x = enc(i)
        while x >= n:
            x = enc(x)
        return x

    return perm


def opener(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rt")
    if magic == b"\x28\xb5\x2f\xfd":
        import subprocess
        return subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE, text=True).stdout
    return open(path)


def read_fasta(path):
    """[(id, seq)] in file order, residues upper-cased, trailing '*' stripped (io's policy)."""
    out, name, parts = [], None, []
    with opener(path) as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith(">"):
                if name is not None:
                    out.append((name, "".join(parts).upper().rstrip("*")))
                name, parts = line[1:].split()[0], []
            elif line:
                parts.append(line.strip())
    if name is not None:
        out.append((name, "".join(parts).upper().rstrip("*")))
    return out


def read_membership(path):
    """{uniref90: uniref50} and the pair order, from XML (UniRef50/90) or TSV."""
    pairs = []
    with opener(path) as f:
        text = f.read()
    if text.lstrip().startswith("<"):
        import xml.etree.ElementTree as ET
        root = ET.fromstring(text)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        for entry in root.iter(ns + "entry"):
            eid = entry.get("id")
            if eid.startswith("UniRef50_"):
                seen = set()
                for mem in list(entry.iter(ns + "representativeMember")) + list(entry.iter(ns + "member")):
                    for prop in mem.iter(ns + "property"):
                        if prop.get("type") == "UniRef90 ID" and prop.get("value") not in seen:
                            seen.add(prop.get("value"))
                            pairs.append((prop.get("value"), eid))
            else:
                for prop in entry.iter(ns + "property"):
                    if prop.get("type") == "UniRef50 ID":
                        pairs.append((eid, prop.get("value")))
                        break
        # XML document order of members differs from the element-type order above only in
        # which pair comes first; the order is used only for orphans without a sequence.
    else:
        lines = [l.rstrip("\r\n") for l in text.splitlines() if l.strip() and not l.startswith("#")]
        if lines and not lines[0].startswith("UniRef"):
            lines = lines[1:]
        pairs = [tuple(l.split("\t")) for l in lines]
    return pairs


def read_out_fasta(path):
    """Output FASTA: strictly '>ID\\nSEQ\\n' records; returns [(id, seq, offset)]."""
    data = open(path, "rb").read()
    recs, pos = [], 0
    while pos < len(data):
        if not check(data[pos:pos + 1] == b">", f"{path}: byte {pos} does not start a record"):
            return recs
        nl = data.index(b"\n", pos)
        nl2 = data.index(b"\n", nl + 1)
        rid, seq = data[pos + 1:nl].decode(), data[nl + 1:nl2].decode()
        check(" " not in rid and rid, f"{path}: bad header at byte {pos}")
        recs.append((rid, seq, pos))
        pos = nl2 + 1
    return recs


def read_u64(path):
    data = open(path, "rb").read()
    check(len(data) % 8 == 0, f"{path}: size not a multiple of 8")
    return list(struct.unpack(f"<{len(data) // 8}Q", data))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--uniref50", required=True)
    ap.add_argument("--uniref90", required=True)
    ap.add_argument("--membership", required=True)
    ap.add_argument("--sample")
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--sample-seed", type=int, default=0)
    a = ap.parse_args()
    out = a.out
    man = json.load(open(os.path.join(out, "manifest.json")))
    par = man["parameters"]
    seed, max_res, crop_mode, min_len = par["seed"], par["max_residues"], par["crop"], par["min_length"]
    check(man["state"] == "complete", "manifest state is not complete")
    check(not os.path.exists(os.path.join(out, ".esmpipe-work")), "work directory left behind")
    for name in os.listdir(out):
        check(not name.endswith(".partial"), f"{name}: partial file left behind")

    u50_all = read_fasta(a.uniref50)
    u90_all = read_fasta(a.uniref90)
    u50 = [r for r in u50_all if len(r[1]) >= min_len]
    u90 = [r for r in u90_all if len(r[1]) >= min_len]
    short50 = {r[0] for r in u50_all if len(r[1]) < min_len}
    short90 = {r[0] for r in u90_all if len(r[1]) < min_len}
    idx50 = {rid: i for i, (rid, _) in enumerate(u50)}
    idx90 = {rid: i for i, (rid, _) in enumerate(u90)}
    seq50, seq90 = dict(u50), dict(u90)
    n50 = len(u50)

    def cropped(seq, index, stream):
        if max_res == 0 or len(seq) <= max_res:
            return seq
        start = 0
        if crop_mode == "random":
            start = uniform_below(counter_hash(seed, stream, index), len(seq) - max_res + 1)
        return seq[start:start + max_res]

    # Rule 1: validation = the k records with the smallest counter hash.
    k = par["val_size"] if "val_size" in par else int(par["val_fraction"] * n50 + 1e-9)
    import math
    if "val_fraction" in par:
        k = math.floor(par["val_fraction"] * n50)
    ranked = sorted(range(n50), key=lambda i: (counter_hash(seed, STREAM_VALIDATION, i), i))
    valid_idx = sorted(ranked[:k])
    valid_ids = [u50[i][0] for i in valid_idx]
    vrecs = read_out_fasta(os.path.join(out, "uniref50_valid.fasta"))
    check([r[0] for r in vrecs] == valid_ids, "uniref50_valid.fasta: not the seeded validation set in input order")
    for (rid, seq, _), i in zip(vrecs, valid_idx):
        check(seq == cropped(u50[i][1], i, STREAM_CROP50), f"valid {rid}: sequence is not the cropped input")

    # Rule 2: removed.tsv is consistent.
    lines = open(os.path.join(out, "removed.tsv")).read().split("\n")
    check(lines[0] == "train_id\tval_id\tidentity\tqcov\ttcov\tevalue", "removed.tsv: bad header")
    check(lines[-1] == "", "removed.tsv: no final newline")
    removed, last = [], -1
    vset = set(valid_ids)
    for l in lines[1:-1]:
        f = l.split("\t")
        if not check(len(f) == 6, f"removed.tsv: bad row {l!r}"):
            continue
        tid, vid, ident, qcov, tcov, ev = f[0], f[1], float(f[2]), float(f[3]), float(f[4]), float(f[5])
        check(tid in idx50 and tid not in vset, f"removed.tsv: {tid} is not a train representative")
        check(vid in vset, f"removed.tsv: {vid} is not a validation representative")
        check(ident >= par["min_seq_id"] - 5e-4, f"removed.tsv: {tid} identity {ident} below threshold")
        if par["cov_mode"] == 0:
            check(qcov >= par["coverage"] - 5e-4 and tcov >= par["coverage"] - 5e-4, f"removed.tsv: {tid} coverage")
        check(ev <= par["evalue"] * 1.01, f"removed.tsv: {tid} evalue {ev}")
        check(idx50.get(tid, -1) > last, f"removed.tsv: {tid} out of UniRef50 input order or repeated")
        last = idx50.get(tid, last)
        removed.append(tid)
    rset = set(removed)

    # Rule 4: clusters.
    pairs = read_membership(a.membership)
    cluster_of = {}
    for u90id, u50id in pairs:
        cluster_of.setdefault(u90id, u50id)
    members = {rid: [] for rid, _ in u50}
    orphans = []
    for rid, _ in u90:
        c = cluster_of.get(rid)
        if c is None:
            orphans.append((0, idx90[rid], rid, "no_cluster"))
        elif c in members:
            members[c].append(rid)
        elif c not in short50:
            orphans.append((0, idx90[rid], rid, "unknown_cluster"))
    seen_pair = set()
    for ordinal, (u90id, u50id) in enumerate(pairs):
        if u90id in seen_pair:
            continue
        seen_pair.add(u90id)
        if u90id not in idx90 and u90id not in short90:
            orphans.append((1, ordinal, u90id, "no_sequence"))
    orphans.sort(key=lambda o: (o[0], o[1]))
    olines = open(os.path.join(out, "orphans.tsv")).read().split("\n")
    check(olines[0] == "id\treason", "orphans.tsv: bad header")
    got_orphans = [tuple(l.split("\t")) for l in olines[1:-1]]
    check(got_orphans == [(o[2], o[3]) for o in orphans],
          f"orphans.tsv: {len(got_orphans)} rows, expected {len(orphans)} in UniRef90 / membership order")

    train = [rid for rid, _ in u50 if rid not in vset and rid not in rset]
    mlines = open(os.path.join(out, "mapping.tsv")).read().split("\n")
    check(mlines[0] == "ur50_id\tmembers", "mapping.tsv: bad header")
    check(mlines[-1] == "", "mapping.tsv: no final newline")
    rows = [l.split("\t") for l in mlines[1:-1]]
    check([r[0] for r in rows] == train, "mapping.tsv: rows are not the train clusters in UniRef50 input order")
    expected_members = {t: [t] + members[t] for t in train}
    for r in rows:
        if check(len(r) == 2, f"mapping.tsv: bad row {r[:1]}"):
            check(r[1].split(",") == expected_members.get(r[0]), f"mapping.tsv: members of {r[0]} wrong or out of order")

    trecs = read_out_fasta(os.path.join(out, "uniref50_train_filt.fasta"))
    check([r[0] for r in trecs] == train, "uniref50_train_filt.fasta: records are not the mapping rows in order")
    for rid, seq, _ in trecs:
        check(seq == cropped(seq50[rid], idx50[rid], STREAM_CROP50), f"train {rid}: sequence is not the cropped input")
        check(max_res == 0 or len(seq) <= max_res, f"train {rid}: longer than max_residues")

    srecs = read_out_fasta(os.path.join(out, "uniref90membersandreps_ur50trainfiltreps.fasta"))
    expected_ids = [m for t in train for m in expected_members[t]]
    check([r[0] for r in srecs] == expected_ids, "sampling FASTA: records are not the mapping members in order")
    for rid, seq, _ in srecs:
        if rid in seq50:
            ok = seq == cropped(seq50[rid], idx50[rid], STREAM_CROP50)
        else:
            ok = rid in seq90 and seq == cropped(seq90[rid], idx90[rid], STREAM_CROP90)
        check(ok, f"sampling {rid}: sequence is not the cropped input")
    # Leaks: nothing of a validation or removed cluster in train or sampling files.
    banned = vset | rset
    for t in list(vset | rset):
        banned.update(members.get(t, []))
    check(not any(r[0] in banned for r in trecs), "train FASTA holds a validation/removed cluster")
    check(not any(r[0] in banned for r in srecs), "sampling FASTA holds a member of a validation/removed cluster")

    starts = read_u64(os.path.join(out, "starts.mmap"))
    counts = read_u64(os.path.join(out, "counts.mmap"))
    check(len(starts) == len(train) and len(counts) == len(train), "starts/counts: one entry per mapping row")
    pos = 0
    for i, t in enumerate(train[: len(starts)]):
        check(starts[i] == pos and counts[i] == len(expected_members[t]), f"starts/counts of row {i} ({t})")
        check(srecs[starts[i]][0] == t if starts[i] < len(srecs) else False, f"starts[{i}] does not index {t}")
        pos += len(expected_members[t])
    offsets = read_u64(os.path.join(out, "sampling_offsets.mmap"))
    sfile = os.path.join(out, "uniref90membersandreps_ur50trainfiltreps.fasta")
    check(offsets == [r[2] for r in srecs] + [os.path.getsize(sfile)], "sampling_offsets.mmap: not the record offsets")

    # Manifest: counts and digests.
    c = man["counts"]
    check(c["validation"] == k and c["removed"] == len(removed), "manifest: validation/removed counts")
    check(c["train_clusters"] == len(train) and c["sampling_records"] == len(srecs), "manifest: train counts")
    check(c["uniref50_kept"] == n50 and c["uniref90_kept"] == len(u90), "manifest: record counts")
    n_orph = {r: sum(1 for o in orphans if o[3] == r) for r in ("no_cluster", "no_sequence", "unknown_cluster")}
    check(c["orphans_no_cluster"] == n_orph["no_cluster"] and c["orphans_no_sequence"] == n_orph["no_sequence"]
          and c["orphans_unknown_cluster"] == n_orph["unknown_cluster"], "manifest: orphan counts")
    for o in man["outputs"]:
        p = os.path.join(out, o["path"])
        check(os.path.getsize(p) == o["size"] and sha256(p) == o["sha256"], f"manifest: {o['path']} size/sha256")
    for i in man["inputs"]:
        check(sha256(i["path"]) == i["sha256"], f"manifest: input {i['path']} sha256")
    for st in ("read", "validation", "filter", "attach", "crop", "order", "write"):
        check(man["stages"][st]["done"] and man["stages"][st]["wall_s"] >= 0, f"manifest: stage {st} not recorded")

    if a.sample:
        recs = read_out_fasta(a.sample)
        n = len(train)
        check(len(recs) == n, f"sample: {len(recs)} records for {n} train clusters")
        perm = feistel(n, counter_hash(a.sample_seed, STREAM_EPOCH_ORDER, a.epoch))
        seen = set()
        for p_, (rid, seq, _) in enumerate(recs):
            cl = perm(p_)
            seen.add(cl)
            j = uniform_below(counter_hash(a.sample_seed, STREAM_EPOCH_MEMBER, a.epoch, cl), counts[cl])
            want = srecs[starts[cl] + j]
            check((rid, seq) == (want[0], want[1]), f"sample record {p_}: expected {want[0]} of cluster {train[cl]}")
            check(rid in expected_members[train[cl]], f"sample record {p_}: {rid} not a member of {train[cl]}")
        check(len(seen) == n, "sample: not every cluster exactly once")

    if failures:
        report()
    print(f"ok: {len(train)} train clusters, {len(srecs)} sampling records, {k} validation, "
          f"{len(removed)} removed, {len(orphans)} orphans")


if __name__ == "__main__":
    main()
