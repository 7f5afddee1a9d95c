#!/usr/bin/env bash
# The browser tests drive the system Chromium (Playwright's own browser download is not used): install the
# Debian package when no Chromium is on PATH. MOODTUNE_CHROMIUM names another binary instead.
set -euo pipefail
if [ -n "${MOODTUNE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 \
    || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then
    exit 0
fi
bash "$(dirname "$0")/apt-install.sh" chromium
