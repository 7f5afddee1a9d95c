#!/usr/bin/env bash
# Create the virtual environment with Python >= 3.11; on Debian/Ubuntu install pythonX.Y-venv if needed.
set -euo pipefail
python="$1"
venv="$2"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "moodtune needs Python >= 3.11 (found: $("$python" --version 2>&1 || echo none)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if "$python" -m venv "$venv" 2>/dev/null; then
    exit 0
fi
rm -rf "$venv"
ver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
bash "$(dirname "$0")/apt-install.sh" "python${ver}-venv"
"$python" -m venv "$venv"
