#!/usr/bin/env bash
# Create or reuse the project's virtual environment (.venv) and install one requirement set:
#   scripts/bootstrap.sh runtime   the app alone (no torch)
#   scripts/bootstrap.sh archive   the app + Dask distributed for archive scoring (no torch)
#   scripts/bootstrap.sh dev       app + training + tests (torch, timm, pytest, ...)
# Re-running is cheap: pip runs only when the chosen requirement files changed.
set -euo pipefail
set_name="${1:-runtime}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/requirements/$set_name.txt"
[ -f "$req" ] || { echo "unknown requirement set: $set_name" >&2; exit 2; }

python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  "$python" -m venv "$venv"
fi

# The stamp is the hash of every requirement file; a set already installed is reused.
stamp="$venv/.installed-$set_name"
digest="$(cat "$root"/requirements/*.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$req"
  echo "$digest" > "$stamp"
fi

# System packages: Qt's libraries (even offscreen a bare image may lack them) and, for the test
# set, a PostgreSQL server so the store is also tested on PostgreSQL. Installed only when missing.
apt_packages=()
if ! "$venv/bin/python" -c "from PySide6 import QtWidgets" 2>/dev/null; then
  apt_packages+=(libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0)
fi
if [ "$set_name" = dev ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt_packages+=(postgresql)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${apt_packages[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    echo "missing system packages (install them, or some tests skip): ${apt_packages[*]}" >&2
  fi
fi
