# Shared setup for the store's script tests: paths, the golden model, a small mini-uniref sample,
# and helpers to run esmpipe under mpirun. Sourced, not run.
set -euo pipefail
: "${ESMPIPE_EXE:?}" "${ESMPIPE_SOURCE_DIR:?}" "${ESMPIPE_BINARY_DIR:?}"
E=$ESMPIPE_EXE
G=$ESMPIPE_SOURCE_DIR/data/golden/esm2-public
PY=/usr/bin/python3
HERE=$ESMPIPE_SOURCE_DIR/tests/store
export HDF5_PLUGIN_PATH=$ESMPIPE_BINARY_DIR/hdf5-plugins
export ESMPIPE_PROGRESS_SECONDS=1000
W=$(mktemp -d "${TMPDIR:-/tmp}/esm-store-test.XXXXXX")
trap 'rm -rf "$W"' EXIT

# The first N records of mini-uniref's UniRef50 (real proteins).
sample() { zcat "$ESMPIPE_SOURCE_DIR/data/mini-uniref/uniref50.fasta.gz" | awk -v n="$1" '/^>/{k++} k<=n' > "$2"; }

# run P args...: esmpipe under mpirun with P ranks (P=1 too: the same launcher path).
run() {
  local p=$1; shift
  mpirun --oversubscribe --bind-to none -n "$p" "$E" "$@"
}

same() { "$PY" "$HERE/compare_stores.py" "$1" "$2"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
attr() { "$PY" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs[sys.argv[2]])" "$1" "$2"; }
