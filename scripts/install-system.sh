#!/usr/bin/env bash
# Installs the system programs some checks need, when they are missing:
#   chromium  the real browser the widget tests drive (Debian's package)
#   nginx     the ingress of the scaled setup (make run-cluster, cluster tests)
# Usage: scripts/install-system.sh chromium nginx
set -euo pipefail

missing=()
for program in "$@"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing ${missing[*]} from the system's packages"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "Missing: ${missing[*]}. Install them with your package manager" >&2
  echo "(Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run the command again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here: install ${missing[*]} with your package manager and run again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
  { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
for program in "${missing[@]}"; do
  command -v "$program" >/dev/null 2>&1 || { echo "$program is still missing" >&2; exit 1; }
done
