#!/usr/bin/env bash
# Make sure the system libraries moodtune needs are present (Debian/Ubuntu): libfluidsynth3. The larger General
# MIDI soundfont (fluid-soundfont-gm) that generated pieces are rendered with is installed too where that is
# possible; without it the small soundfont bundled with pretty_midi renders them.
set -euo pipefail
here="$(dirname "$0")"
if ! ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so\.3'; then
    bash "$here/apt-install.sh" libfluidsynth3
fi
if [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && [ ! -f /usr/share/soundfonts/FluidR3_GM.sf2 ]; then
    bash "$here/apt-install.sh" fluid-soundfont-gm 2>/dev/null \
        || echo "optional: fluid-soundfont-gm is not installed; generated pieces are rendered with the bundled soundfont"
fi
