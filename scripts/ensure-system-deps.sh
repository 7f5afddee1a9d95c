#!/usr/bin/env bash
# Make sure the system libraries moodtune needs are present (Debian/Ubuntu): libfluidsynth3.
set -euo pipefail
if ! ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so\.3'; then
    bash "$(dirname "$0")/apt-install.sh" libfluidsynth3
fi
