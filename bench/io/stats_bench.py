#!/usr/bin/python3
"""esmpipe stats vs seqkit stats on one large plain FASTA built from the bundled real data.

Usage: bench/io/stats_bench.py ESMPIPE_EXE [--mb 500] [--dir /tmp/esmpipe-bench] [--repeat 3]

Prints, for esmpipe stats at 1 and 2 MPI ranks and seqkit stats -a at -j 1 and -j 2: best wall
time of --repeat runs, MB/s, CPU seconds (user+sys of the whole process tree), and the ratios
the targets are stated in: esmpipe 1 rank vs seqkit -j 1 (per core) and esmpipe 2 ranks vs 1.
MPI start-up (mpirun + MPI_Init, measured on a one-record file) is shown separately, because on
small inputs it dominates the wall time; 'scan' = wall minus start-up.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
ap = argparse.ArgumentParser()
ap.add_argument("exe")
ap.add_argument("--mb", type=int, default=500)
ap.add_argument("--dir", default="/tmp/esmpipe-bench")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--gzip", action="store_true", help="also time the .gz path (esmpipe with a .esmidx vs seqkit)")
args = ap.parse_args()

env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
os.makedirs(args.dir, exist_ok=True)
fasta = os.path.join(args.dir, f"bench_{args.mb}MB.fasta")
if not os.path.exists(fasta):
    subprocess.run([sys.executable, os.path.join(here, "make_bench_fasta.py"),
                    os.path.join(root, "data/mini-uniref/uniref90.fasta.gz"), fasta + ".tmp", str(args.mb)], check=True)
    os.rename(fasta + ".tmp", fasta)
tiny = os.path.join(args.dir, "tiny.fasta")
with open(tiny, "w") as f:
    f.write(">t\nACDEFGHIK\n")
size_mb = os.path.getsize(fasta) / 1e6
with open(fasta, "rb") as f:  # warm the page cache: we measure parsing, not the disk
    while f.read(1 << 24):
        pass


def mpirun(n, *cmd):
    return ["mpirun", "--oversubscribe", "--bind-to", "none", "-n", str(n), *cmd]


def run(cmd):
    """Best wall time of --repeat runs and the CPU time of that run (children included)."""
    best = None
    for _ in range(args.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best[0]:
            best = (wall, cpu, out)
    return best


esm = [args.exe, "stats", "--log-level", "warn"]
startup = {n: run(mpirun(n, *esm, tiny) if n > 1 else esm + [tiny])[0] for n in (1, 2)}
rows = {
    "esmpipe stats, 1 rank": run(esm + [fasta]) + (startup[1],),
    "esmpipe stats, 2 ranks": run(mpirun(2, *esm, fasta)) + (startup[2],),
    "seqkit stats -a -j 1": run(["seqkit", "stats", "-a", "-T", "-j", "1", fasta]) + (0.0,),
    "seqkit stats -a -j 2": run(["seqkit", "stats", "-a", "-T", "-j", "2", fasta]) + (0.0,),
}

if args.gzip:
    gz = fasta + ".gz"
    if not os.path.exists(gz):
        subprocess.run(f"gzip -6 -c {fasta} > {gz}.tmp && mv {gz}.tmp {gz}", shell=True, check=True)
    if os.path.exists(gz + ".esmidx"):
        os.remove(gz + ".esmidx")
    rows["esmpipe stats .gz, 1 rank"] = run(esm + [gz]) + (startup[1],)
    rows["esmpipe stats .gz, 2 ranks, no index"] = run(mpirun(2, *esm, gz)) + (startup[2],)
    t0 = time.perf_counter()
    subprocess.run([args.exe, "index", "--log-level", "warn", gz], env=env, check=True)
    index_s = time.perf_counter() - t0
    rows["esmpipe stats .gz, 2 ranks, .esmidx"] = run(mpirun(2, *esm, gz)) + (startup[2],)
    rows["seqkit stats -a .gz -j 1"] = run(["seqkit", "stats", "-a", "-T", "-j", "1", gz]) + (0.0,)

# Same counts, or the timing means nothing.
ours = json.loads(subprocess.run(esm + ["--json", fasta], env=env, stdout=subprocess.PIPE, check=True).stdout)["files"][0]
sk = dict(zip(*[l.split("\t") for l in rows["seqkit stats -a -j 1"][2].decode().strip().split("\n")]))
assert (str(ours["records"]), str(ours["residues"])) == (sk["num_seqs"], sk["sum_len"]), (ours, sk)

cpu_info = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu_info.splitlines() if l.startswith("Model name")), "?")
print(f"input: {fasta} ({size_mb:.1f} MB plain, {ours['records']} records); {os.cpu_count()} cores ({model}); "
      f"load average before: {os.getloadavg()[0]:.1f}")
print(f"{'command':38} {'wall s':>7} {'MB/s':>7} {'start-up s':>10} {'scan s':>7} {'scan MB/s':>9} {'CPU s':>6} {'MB/CPU-s':>8}")
for name, (wall, cpu, _, start) in rows.items():
    scan = max(wall - start, 1e-9)
    print(f"{name:38} {wall:7.2f} {size_mb / wall:7.0f} {start:10.2f} {scan:7.2f} {size_mb / scan:9.0f} {cpu:6.2f} {size_mb / cpu:8.0f}")
e1, e2 = rows["esmpipe stats, 1 rank"], rows["esmpipe stats, 2 ranks"]
s1 = rows["seqkit stats -a -j 1"]
if args.gzip:
    print(f"esmpipe index on the .gz: {index_s:.2f} s (once per file; MB/s columns count uncompressed MB)")
print(f"ratio esmpipe 1 rank / seqkit -j 1, speed (wall):        {s1[0] / e1[0]:.2f}x")
print(f"ratio esmpipe 1 rank / seqkit -j 1, MB per CPU-second:   {(size_mb / e1[1]) / (size_mb / s1[1]):.2f}x")
print(f"ratio esmpipe 2 ranks / 1 rank, speed (wall):            {e1[0] / e2[0]:.2f}x")
print(f"ratio esmpipe 2 ranks / 1 rank, speed (scan, no start-up): {(e1[0] - e1[3]) / max(e2[0] - e2[3], 1e-9):.2f}x")
