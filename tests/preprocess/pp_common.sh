# Shared by the preprocess script tests: inputs, the mpirun line, output comparison.
exe=${ESMPIPE_EXE:?} src=${ESMPIPE_SOURCE_DIR:?}
data=$src/data/mini-uniref
check=$src/tests/preprocess/check_outputs.py
mpirun_bin=${ESM_MPIRUN:-mpirun}
mpi() { local n=$1; shift; "$mpirun_bin" --oversubscribe --bind-to none -n "$n" "$@"; }
u50=$data/uniref50.fasta.gz u90=$data/uniref90.fasta.gz tsv=$data/membership.tsv.gz xml=$data/uniref50.xml.gz
data_files="uniref50_train_filt.fasta uniref50_valid.fasta uniref90membersandreps_ur50trainfiltreps.fasta mapping.tsv starts.mmap counts.mmap sampling_offsets.mmap removed.tsv orphans.tsv"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# same_outputs A B: every data file byte-identical, manifests equal but for run-specific fields.
same_outputs() {
  for f in $data_files; do cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from $1/$f"; done
  /usr/bin/python3 - "$1/manifest.json" "$2/manifest.json" <<'PY' || fail "$2/manifest.json differs from $1 beyond timings"
import json, sys
def norm(path):
    m = json.load(open(path))
    for k in ("command_line", "ranks", "work_ranks", "run_key", "wall_s_stages_total"):
        m.pop(k, None)
    for st in m["stages"].values():
        st.pop("wall_s", None)
        st.pop("peak_rss_kb_per_rank", None)
        st["counts"].pop("per_rank", None)
        st["counts"].pop("exchange_rounds", None)
        st["counts"].pop("runs_spilled", None)
    for k in ("exchange_rounds", "runs_spilled"):
        m["counts"].pop(k, None)
    return m
a, b = norm(sys.argv[1]), norm(sys.argv[2])
if a != b:
    print(json.dumps(a, indent=1)[:3000]); print(json.dumps(b, indent=1)[:3000]); sys.exit(1)
PY
}
