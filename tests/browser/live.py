"""What the browser tests add to tests/live.py: Debian's Chromium and its switches."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking switches Chromium dials out at start-up, and this
# machine's closed network refuses those connections noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# The dashboard's server must be healthy within 45 s and answer each request within 20 s.
START_TIMEOUT = 45.0
REQUEST_TIMEOUT = 20.0
