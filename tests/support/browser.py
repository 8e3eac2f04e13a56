"""How the project starts Debian's chromium: headless, and quiet on a closed network."""

import os
import shutil

CHROMIUM = os.environ.get("OSCAR_GPT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
