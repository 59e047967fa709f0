#!/usr/bin/env bash
# Prints the path of a Python that Rasa 3.6 supports (3.8-3.10), preferring 3.10.
# Looks on PATH first, then in pyenv. Exits 1 with a clear message when there is none.
set -euo pipefail

supported() {
  "$1" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' 2>/dev/null
}

candidates=()
for name in python3.10 python3.9 python3.8 python3 python; do
  if command -v "$name" >/dev/null 2>&1; then candidates+=("$(command -v "$name")"); fi
done
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for dir in $(ls -d "$root"/versions/3.10.* "$root"/versions/3.9.* "$root"/versions/3.8.* 2>/dev/null | sort -rV); do
    candidates+=("$dir/bin/python")
  done
elif [ -d "${PYENV_ROOT:-$HOME/.pyenv}/versions" ]; then
  for dir in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.* 2>/dev/null | sort -rV); do
    candidates+=("$dir/bin/python")
  done
fi

for py in "${candidates[@]}"; do
  if [ -x "$py" ] && supported "$py"; then
    echo "$py"
    exit 0
  fi
done

cat >&2 <<'MSG'
No supported Python found. Rasa Open Source 3.6 runs on Python 3.8, 3.9 or 3.10 only.
Install Python 3.10 and run the command again, for example:
  pyenv install 3.10.13            (with pyenv; this project finds pyenv versions itself)
  sudo apt-get install python3.10 python3.10-venv   (Debian/Ubuntu with such a package)
Or point the build at one: make install BOT_PYTHON=/path/to/python3.10
MSG
exit 1
