#!/usr/bin/env bash
# Configures and builds esmpipe in ./build (release preset unless ESMPIPE_PRESET is set).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
preset="${ESMPIPE_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
