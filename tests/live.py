"""Live `python run.py` processes for the tests that talk to a real server.

The browser tests, the end-to-end tests and the two-process admin test all start their
servers here: `server_env()` builds the environment (production config, generated
secrets, the caller's database, rate limits off), `start()` launches `run.py` on a free
port and waits until that process holds the port (`bench/launch.py` reads it from /proc)
and /api/health answers, and `stop_all()` / `LiveServer.stop()` terminate, then kill,
every process that is still running.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.launch import free_port, healthy, listens
from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# run.py launches tried when the free port was taken before it could bind it.
PORT_ATTEMPTS = 3
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/0")
# Settings the main suite or a developer's shell may carry: a live server gets only
# the ones its caller chooses.
INHERITED_NOT = ("CYBERSCAN_", "SOCKETIO_", "REDIS_", "TEST_DATABASE")


def new_keys() -> dict[str, str]:
    """SECRET_KEY and JWT_SECRET_KEY, 48 random bytes each (production wants >= 32)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
    }


def server_env(
    database_url: str,
    *,
    async_mode: str = "eventlet",
    redis_url: str = "",
    channel: str = "",
    keys: Mapping[str, str] | None = None,
    **settings: str,
) -> dict[str, str]:
    """The environment of a production `run.py` (PORT is added by `start()`).

    `keys` shares SECRET_KEY/JWT_SECRET_KEY between servers (or with a test that mints
    tokens); without it they are generated. `settings` are extra variables, last word.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(INHERITED_NOT)
    }
    env.update(
        CYBERSCAN_ENV="production",
        **(keys or new_keys()),
        DATABASE_URL=database_url,
        RATELIMIT_ENABLED="false",
        SOCKETIO_ASYNC_MODE=async_mode,
        # Empty rather than absent, so a developer's .env cannot fill them in.
        REDIS_URL=redis_url,
        SOCKETIO_CHANNEL=channel,
        CLASSIFIER_PATH="",
        HOST="127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    )
    env.update(settings)
    return env


@dataclass
class LiveServer:
    """One `python run.py` process on a free port, with its environment and log."""

    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    timeout: float = REQUEST_TIMEOUT

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
            with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def get(self, path: str, token: str) -> Any:
        """A GET that must answer 200; answers the decoded body."""
        status, body = self.request("GET", path, token=token)
        assert status == 200, (path, status, body)
        return body

    def sign_up(self, username: str) -> dict[str, Any]:
        """Create an account over REST; answers the new user."""
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
        return body["user"]

    def login(self, username: str) -> str:
        """Log in with the test password; answers the access token."""
        status, body = self.request(
            "POST", "/api/login", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        return body["access_token"]

    def register(self, username: str) -> str:
        """Create an account over REST and answer its access token."""
        self.sign_up(username)
        return self.login(username)

    def flask(self, *args: str, password: str = PASSWORD) -> str:
        """Run `flask --app cyberscan ARGS` beside the server, on its settings, with a
        password on stdin; answers what it printed (it must succeed)."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "cyberscan", *args],
            input=password + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def create_admin(self, username: str) -> None:
        """The documented way: `flask --app cyberscan create-admin`, password on stdin."""
        self.flask("create-admin", username, f"{username}@example.com")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_all([self])


def stop_all(servers: Iterable[LiveServer]) -> None:
    """Terminate every running process, then wait for each; kill what does not exit."""
    running = [
        server.process
        for server in servers
        if server.process is not None and server.process.poll() is None
    ]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def listening(server: LiveServer) -> bool:
    """Whether this process holds its port's listening socket. Until it does, an answer
    on the port may be another process's (one that took the port first)."""
    assert server.process is not None
    return listens(server.process.pid, int(server.url.rsplit(":", 1)[1]))


def wait_healthy(server: LiveServer, timeout: float = START_TIMEOUT) -> None:
    """Until this process listens and /api/health answers 200; fails with the log's
    tail if it never does."""
    assert server.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            pytest.fail(
                f"run.py exited with {code} on start; the end of {server.log}:\n"
                f"{server.log_tail()}"
            )
        if listening(server) and healthy(server.url):
            return
        time.sleep(0.2)
    pytest.fail(
        f"{server.url}/api/health did not answer 200 within {timeout:g}s; "
        f"the end of {server.log}:\n{server.log_tail()}"
    )


def start(
    env: Mapping[str, str],
    log_dir: Path,
    log_name: str | None = None,
    *,
    start_timeout: float = START_TIMEOUT,
    request_timeout: float = REQUEST_TIMEOUT,
) -> LiveServer:
    """`python run.py` on a free port, healthy; stopped again if it does not get there.

    Its stdout and stderr go to `log_dir / log_name` (default `server-<port>.log`).
    A free port can be taken by another test's process between `free_port()` and
    run.py's bind; run.py then exits saying so, and another port is tried.
    """
    attempt = 0
    while True:
        attempt += 1
        port = free_port()
        server = LiveServer(
            url=f"http://127.0.0.1:{port}",
            env={**env, "PORT": str(port)},
            log=log_dir / (log_name or f"server-{port}.log"),
            timeout=request_timeout,
        )
        with server.log.open("wb") as out:
            server.process = subprocess.Popen(
                [sys.executable, "run.py"],
                cwd=ROOT,
                env=server.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_healthy(server, start_timeout)
        except BaseException as exc:  # pytest.fail and KeyboardInterrupt included
            server.stop()
            if (
                attempt < PORT_ATTEMPTS
                and isinstance(exc, pytest.fail.Exception)
                and "is already in use" in server.log_tail()
            ):
                continue
            raise
        return server
