#!/usr/bin/env bash
# Install Debian/Ubuntu packages as root, or with passwordless sudo; otherwise print one line naming them.
# Usage: apt-install.sh PACKAGE...
set -euo pipefail
if ! command -v apt-get >/dev/null 2>&1; then
    echo "moodtune needs the system package(s) $*; install them with your package manager" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
else
    echo "moodtune needs the system package(s) $*: run 'sudo apt-get install $*'" >&2
    exit 1
fi
echo "installing system package(s): $*"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null
