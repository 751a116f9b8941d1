"""A live `python run.py` process for the browser tests, and JSON calls to it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
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
START_TIMEOUT = 45.0


@dataclass
class LiveServer:
    """A `python run.py` process on a free port, with its environment and log."""

    url: str
    env: dict[str, str]
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> tuple[int, Any]:
        """One JSON request; answers (status, decoded body)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(  # noqa: S310  (always http to the live server)
            self.url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=20) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def register(self, username: str) -> str:
        """Create an account over REST and answer its access token."""
        status, body = self.request(
            "POST",
            "/api/register",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
            },
        )
        assert status == 201, body
        status, body = self.request(
            "POST", "/api/login", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        return body["access_token"]

    def create_admin(self, username: str) -> None:
        """The documented way: `flask --app cyberscan create-admin`, password on stdin."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "cyberscan",
                "create-admin",
                username,
                f"{username}@example.com",
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited on start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not become healthy:\n{log.read_text()[-3000:]}")
