#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" test
"$root/scripts/build.sh"
cd "$root"
ctest --preset "${ESMPIPE_PRESET:-release}" --output-on-failure -j 2 "$@"
