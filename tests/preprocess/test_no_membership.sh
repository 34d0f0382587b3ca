#!/usr/bin/env bash
# `esmpipe preprocess` without --membership: UniRef90 records are placed by clustering under
# the UniRef50 representatives (>= 50% identity, >= 80% coverage of the member). On whole
# clusters of data/mini-uniref (every 8th UniRef50 cluster, tests/cluster/make_subset.py):
# outputs byte-identical for 1 and 2 ranks, the manifest names the method, every UniRef90 record
# is accounted for, a rerun is recognised as complete, and the placement agrees with
# membership.tsv for >= 90% of the members of train clusters (the fraction is printed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/pp_common.sh"
tmp=$(mktemp -d /tmp/esm_pp_nomem.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/tests/cluster/make_subset.py" "$data" "$tmp/sub" 8 || { echo "FAIL: subset"; exit 1; }
args=(--uniref50 "$tmp/sub/uniref50.fasta" --uniref90 "$tmp/sub/uniref90.fasta" --val-size 3 --seed 7 --log-level warn)
"$exe" preprocess "${args[@]}" --out "$tmp/r1" --threads 2 || fail "1 rank run"
mpi 2 "$exe" preprocess "${args[@]}" --out "$tmp/r2" --threads 1 || fail "2 rank run"
same_outputs "$tmp/r1" "$tmp/r2"

# A rerun is complete (the run key covers the clustering); a run with a membership file is another run.
"$exe" preprocess "${args[@]}" --out "$tmp/r1" >"$tmp/again.log" 2>&1 || fail "rerun of a complete run should succeed"
"$exe" preprocess "${args[@]}" --membership "$tmp/sub/membership.tsv" --out "$tmp/r1" >"$tmp/other.log" 2>&1 &&
  fail "a run with --membership into a directory of a clustering run must be refused"

/usr/bin/python3 - "$tmp/r1" "$tmp/sub/membership.tsv" <<'PY' || fail "manifest / agreement"
import json, sys
out, ref = sys.argv[1], sys.argv[2]
m = json.load(open(f"{out}/manifest.json"))
bad = []
if m.get("membership") != "clustering": bad.append(f"membership = {m.get('membership')!r}")
method = m.get("membership_method", "")
if "min_seq_id 0.5" not in method or "coverage 0.8" not in method: bad.append(f"membership_method = {method!r}")
if any(i["role"] == "membership" for i in m["inputs"]): bad.append("a membership input is listed")
c = m["counts"]
placed = c["members_in_train_clusters"] + c["members_dropped_validation"] + c["members_dropped_removed"]
if placed + c["orphans_no_cluster"] != c["uniref90_kept"]: bad.append(f"UniRef90 records not accounted for: {c}")
if c["members_dropped_validation"] == 0: bad.append("no member of a validation cluster was dropped (the test needs some)")
ours = {}
for line in list(open(f"{out}/mapping.tsv"))[1:]:
    u50, members = line.rstrip("\n").split("\t")
    for u90 in members.split(",")[1:]:
        ours[u90] = u50
orphans = [l.split("\t")[0] for l in list(open(f"{out}/orphans.tsv"))[1:]]
if len(orphans) != c["orphans_no_cluster"]: bad.append("orphans.tsv rows != orphans_no_cluster")
train = {l.split("\t")[0] for l in list(open(f"{out}/mapping.tsv"))[1:]}
truth = dict(l.rstrip("\n").split("\t") for l in list(open(ref))[1:])
judged = [u90 for u90, u50 in truth.items() if u50 in train]
same = sum(ours.get(u90) == truth[u90] for u90 in judged)
frac = same / len(judged)
print(f"members of train clusters (membership.tsv) {len(judged)} placed in the same cluster {same} "
      f"agreement {frac:.4f}; orphans {len(orphans)}")
if frac < 0.9: bad.append(f"agreement {frac:.4f} < 0.9")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
[ $fails -eq 0 ] && echo "preprocess_no_membership: all checks passed"
exit $((fails > 0))
