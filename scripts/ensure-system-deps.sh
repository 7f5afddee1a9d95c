#!/usr/bin/env bash
# Make sure the system libraries moodtune needs are present (Debian/Ubuntu): libfluidsynth3.
set -euo pipefail
pkgs=()
if ! ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so\.3'; then
    pkgs+=(libfluidsynth3)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "moodtune needs the system package(s) ${pkgs[*]} (FluidSynth); install them with your package manager" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
else
    echo "moodtune needs the system package(s) ${pkgs[*]}: run 'sudo apt-get install ${pkgs[*]}'" >&2
    exit 1
fi
echo "installing system package(s): ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null
