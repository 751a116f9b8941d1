"""A live server process and Debian's headless Chromium for the dashboard tests.

No browser is ever downloaded: Playwright drives /usr/bin/chromium. Without it the
tests skip, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    LiveServer,
    free_port,
    wait_healthy,
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """run.py as operators run it (production config, eventlet), on a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("live")
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            # Empty rather than absent, so a developer's .env cannot fill them in.
            "REDIS_URL": "",
            "CLASSIFIER_PATH": "",
            "CYBERSCAN_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": f"sqlite:///{workdir / 'live.db'}",
            "RATELIMIT_ENABLED": "false",
            "SOCKETIO_ASYNC_MODE": "eventlet",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "run.py"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield LiveServer(url=url, env=env, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
