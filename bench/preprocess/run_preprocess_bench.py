#!/usr/bin/python3
"""Benchmark of `esmpipe preprocess` on a UniRef-format set (uniref50.fasta.gz,
uniref90.fasta.gz, membership.tsv.gz in --data): wall time per stage and peak RSS per rank at
each rank count, and, for the crop + order + write stages, the ratio to the peer doing the same
reordering with standard tools:

    seqkit subseq -r 1:1023 keyed.fasta | seqkit fx2tab | LC_ALL=C sort -k1,1 | awk (write FASTA)

where keyed.fasta holds every record of the sampling FASTA, uncropped, in input order (train
representatives in UniRef50 order, then members in UniRef90 order) with its final position as
the sort key -- exactly what esmpipe's crop stage starts from. The peer's output is compared
byte for byte with esmpipe's sampling FASTA, so both did the same work.

usage: run_preprocess_bench.py --exe build/src/cli/esmpipe --data DIR --work DIR [--ranks 1,2]
                               [--val-fraction 0.005] [--threads N]"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
STAGES = ["read", "validation", "filter", "attach", "crop", "order", "write"]


def fasta(path):
    opener = gzip.open if path.endswith(".gz") else open
    name, parts = None, []
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(parts)
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if name is not None:
        yield name, "".join(parts)


def make_keyed(data, out_dir, keyed):
    """keyed.fasta from the inputs and esmpipe's mapping.tsv (untimed preparation)."""
    position = {}
    pos = 0
    with open(os.path.join(out_dir, "mapping.tsv")) as f:
        next(f)
        for row in f:
            for m in row.rstrip("\n").split("\t")[1].split(","):
                position[m] = pos
                pos += 1
    with open(keyed, "w") as out:
        for path in ("uniref50.fasta.gz", "uniref90.fasta.gz"):
            for rid, seq in fasta(os.path.join(data, path)):
                if rid in position:
                    out.write(f">{position[rid]:012d} {rid}\n{seq}\n")
    return pos


def run_peer(keyed, result, max_residues, threads):
    cmd = (f"seqkit subseq -r 1:{max_residues} {keyed} | seqkit fx2tab | "
           f"LC_ALL=C sort -k1,1 -S 1G --parallel={threads} | "
           "awk -F'\\t' '{ split($1, h, \" \"); print \">\" h[2]; print $2 }' > " + result)
    t0 = time.time()
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True)
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--val-fraction", default="0.005")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--memory-limit", default="2G")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ, **MPI_ENV)
    results = {}
    for r in [int(x) for x in a.ranks.split(",")]:
        out = os.path.join(a.work, f"out_n{r}")
        cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-n", str(r), a.exe, "preprocess",
               "--uniref50", os.path.join(a.data, "uniref50.fasta.gz"),
               "--uniref90", os.path.join(a.data, "uniref90.fasta.gz"),
               "--membership", os.path.join(a.data, "membership.tsv.gz"),
               "--out", out, "--val-fraction", a.val_fraction, "--force", "--log-level", "warn",
               "--memory-limit", a.memory_limit]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        t0 = time.time()
        subprocess.run(cmd, check=True, env=env)
        wall = time.time() - t0
        man = json.load(open(os.path.join(out, "manifest.json")))
        st = man["stages"]
        rss = [max(st[s]["peak_rss_kb_per_rank"][i] for s in STAGES) / 1024 for i in range(r)]
        results[r] = {"wall": wall, "stages": {s: st[s]["wall_s"] for s in STAGES}, "rss_mb": rss,
                      "counts": man["counts"]}
        c = man["counts"]
        print(f"ranks={r}: total {wall:.1f} s (process), stages: " +
              ", ".join(f"{s} {st[s]['wall_s']:.2f}" for s in STAGES) +
              f"; peak RSS per rank MB: {', '.join(f'{x:.0f}' for x in rss)}")
        print(f"   {c['uniref50_kept']} UniRef50, {c['uniref90_kept']} UniRef90, {c['validation']} validation, "
              f"{c['removed']} removed, {c['train_clusters']} train clusters, {c['sampling_records']} sampling records")
    first = min(results)
    out = os.path.join(a.work, f"out_n{first}")
    keyed = os.path.join(a.work, "keyed.fasta")
    n = make_keyed(a.data, out, keyed)
    peer_out = os.path.join(a.work, "peer.fasta")
    man = json.load(open(os.path.join(out, "manifest.json")))
    peer = run_peer(keyed, peer_out, man["parameters"]["max_residues"], max(2, a.threads or 2))
    same = subprocess.run(["cmp", "-s", peer_out, os.path.join(out, "uniref90membersandreps_ur50trainfiltreps.fasta")]).returncode == 0
    print(f"peer (seqkit subseq + fx2tab + sort + awk) on {n} records: {peer:.2f} s; output identical: {same}")
    for r, res in sorted(results.items()):
        ours = res["stages"]["crop"] + res["stages"]["order"] + res["stages"]["write"]
        print(f"ranks={r}: crop+order+write {ours:.2f} s vs peer {peer:.2f} s: ratio ours/peer = {ours / peer:.2f}")
    os.remove(keyed)
    if not same:
        sys.exit("peer output differs from esmpipe's sampling FASTA")


if __name__ == "__main__":
    main()
