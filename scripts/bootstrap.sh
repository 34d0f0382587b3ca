#!/usr/bin/env bash
# Installs the Debian 12 packages esmpipe needs, only those missing, without recommends.
#   scripts/bootstrap.sh build|test|demo|bench ...   (build is always included)
# Idempotent: when everything is present it runs no apt command at all.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sets=(build "$@")
wanted=()
for s in "${sets[@]}"; do
  f="$here/packages/$s.txt"
  [[ -f "$f" ]] || { echo "bootstrap: unknown package set '$s' ($f)" >&2; exit 2; }
  while read -r line; do
    pkg="${line%%#*}"; pkg="${pkg//[[:space:]]/}"
    [[ -n "$pkg" ]] && wanted+=("$pkg")
  done < "$f"
done
missing=()
for p in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#wanted[@]} packages present"
  exit 0
fi
echo "bootstrap: installing ${missing[*]}"
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
