#!/usr/bin/env bash
# Creates .venv with a supported Python and installs the pinned environment plus the project.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${1:-}"
if [ -z "$python" ]; then
  python="$(bash scripts/find-python.sh)"
fi
echo "Using $python ($("$python" --version 2>&1))"

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)'; then
  echo "Existing .venv uses an unsupported Python; recreating it."
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install --quiet "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1"
# Every version, direct and transitive, is pinned in the lock file.
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# The chat page's front-end packages, from the npm registry into web/node_modules (served by the
# bot itself at /chat/; nothing is loaded from a CDN).
if [ -f web/package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing: install Node.js 18 or newer (Debian: apt-get install nodejs npm) and run again." >&2
    exit 1
  fi
  npm ci --prefix web --no-audit --no-fund --loglevel=error
fi
mkdir -p var models
echo "Installed. Python environment: .venv"
