#!/usr/bin/env bash
# The README's demo command: install what is missing, build, run the demo job (the whole
# pipeline on the bundled sample, 2 MPI ranks, CPU), then show the resulting store.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" demo
"$root/scripts/build.sh"
cd "$root"
exe="$root/build/src/cli/esmpipe"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$exe" run jobs/demo.ini "$@"
