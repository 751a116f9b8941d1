"""A live server process and Debian's headless Chromium for the dashboard tests.

No browser is ever downloaded: Playwright drives /usr/bin/chromium. Without it the
tests skip, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import CHROMIUM, CHROMIUM_ARGS, REQUEST_TIMEOUT, START_TIMEOUT
from tests.live import LiveServer, server_env, start


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """run.py as operators run it (production config, eventlet), on a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("live")
    server = start(
        server_env(f"sqlite:///{workdir / 'live.db'}"),
        workdir,
        "server.log",
        start_timeout=START_TIMEOUT,
        request_timeout=REQUEST_TIMEOUT,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
