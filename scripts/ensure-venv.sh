#!/usr/bin/env bash
# Create the virtual environment with Python >= 3.11; on Debian/Ubuntu install python3-venv if needed.
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
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo_cmd=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        echo "moodtune needs the system package python${ver}-venv: run 'sudo apt-get install python${ver}-venv'" >&2
        exit 1
    fi
    echo "installing system package python${ver}-venv"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq "python${ver}-venv" >/dev/null || "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
    "$python" -m venv "$venv"
else
    echo "could not create a virtual environment with $python -m venv" >&2
    exit 1
fi
