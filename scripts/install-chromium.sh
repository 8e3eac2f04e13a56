#!/usr/bin/env bash
# Debian's chromium for the browser tests (Playwright drives it; no browser download).
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
