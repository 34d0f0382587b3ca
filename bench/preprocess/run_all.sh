#!/usr/bin/env bash
# The preprocess benchmark of docs/PERFORMANCE.md: mini-uniref, then the ~516k-sequence set built
# from metastudent-data, each at 1 and 2 ranks, with the seqkit + sort peer.
#   usage: bench/preprocess/run_all.sh BUILD_DIR WORK_DIR      (WORK_DIR caches the 516k set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run_all.sh BUILD_DIR WORK_DIR}
work=${2:?usage: run_all.sh BUILD_DIR WORK_DIR}
exe=$build/src/cli/esmpipe
mkdir -p "$work"
echo "== mini-uniref (data/mini-uniref)"
/usr/bin/python3 "$here/run_preprocess_bench.py" --exe "$exe" --data "$here/../../data/mini-uniref" --work "$work/mini"
echo "== metastudent-data UniRef-format set"
MODE=${MODE:-linclust} bash "$here/make_metastudent_uniref.sh" "$work/meta" 2
/usr/bin/python3 "$here/run_preprocess_bench.py" --exe "$exe" --data "$work/meta" --work "$work/meta-run"
