"""Live `python run.py` processes for the end-to-end tests, and the clients that drive them.

Each server gets its own environment: production config with generated secrets, rate
limits off, a database of its own (a temporary SQLite file, or `cyberscan_e2e_test` on
MySQL/MariaDB when TEST_DATABASE_URL is a MySQL URL: the main suite empties its tables
after every test, so the live servers never share them), and for the Redis runs a
Socket.IO channel unique to the run so parallel or repeated runs never hear each other.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = ROOT / "e2e"
START_TIMEOUT = 60.0
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/0")
MYSQL_E2E_DATABASE = "cyberscan_e2e_test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """One `python run.py` process on a free port."""

    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

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
        req = urllib.request.Request(  # noqa: S310  (http to the live server)
            self.url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def get(self, path: str, token: str) -> Any:
        status, body = self.request("GET", path, token=token)
        assert status == 200, (path, status, body)
        return body

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Account:
    username: str
    token: str
    id: int


@dataclass
class Cluster:
    """One or more servers sharing a database (and Redis when there are several)."""

    servers: list[LiveServer]
    database_url: str
    secrets: dict[str, str]
    channel: str | None = None
    made: list[str] = field(default_factory=list)

    @property
    def first(self) -> LiveServer:
        return self.servers[0]

    def account(self, prefix: str = "u", *, admin: bool = False) -> Account:
        """Register and log in a fresh user (unique name per call) through process one."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        server = self.first
        status, body = server.request(
            "POST",
            "/api/register",
            {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert status == 201, body
        user_id = body["user"]["id"]
        if admin:
            engine = sa.create_engine(self.database_url)
            with engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE users SET is_admin = :yes WHERE id = :id"),
                    {"yes": True, "id": user_id},
                )
            engine.dispose()
        status, body = server.request(
            "POST", "/api/login", {"username": name, "password": PASSWORD}
        )
        assert status == 200, body
        return Account(name, body["access_token"], user_id)

    def sql(self, statement: str, **params: Any) -> None:
        engine = sa.create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
        engine.dispose()


def wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            pytest.fail(
                f"server exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url + "/api/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"server not ready in {START_TIMEOUT}s:\n{server.log_tail()}")


def start_server(
    log_dir: Path, database_url: str, keys: dict[str, str], **settings: str
) -> LiveServer:
    """Start `python run.py` on a free port and wait until /api/health answers 200."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CYBERSCAN_", "SOCKETIO_", "REDIS_", "TEST_DATABASE"))
    }
    env.update(
        CYBERSCAN_ENV="production",
        SECRET_KEY=keys["SECRET_KEY"],
        JWT_SECRET_KEY=keys["JWT_SECRET_KEY"],
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=str(port),
        RATELIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    log = log_dir / f"server-{port}.log"
    server = LiveServer(f"http://127.0.0.1:{port}", env, log)
    with log.open("wb") as out:
        server.process = subprocess.Popen(
            [sys.executable, "run.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_ready(server)
    return server


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the live servers only (recreated per session)."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("mysql"):
        url = make_url(test_url).set(database=MYSQL_E2E_DATABASE)
        admin = sa.create_engine(make_url(test_url).set(database=None))
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {MYSQL_E2E_DATABASE}"))
            conn.execute(
                sa.text(
                    f"CREATE DATABASE {MYSQL_E2E_DATABASE} CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci"
                )
            )
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {MYSQL_E2E_DATABASE}"))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'live.db'}"


@pytest.fixture(scope="session")
def server_keys() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
    }


@pytest.fixture(scope="session")
def launch(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_database_url: str,
    server_keys: dict[str, str],
) -> Iterator[Callable[..., Cluster]]:
    """Start clusters on demand; every process is stopped at the end of the session."""
    started: list[LiveServer] = []
    log_dir = tmp_path_factory.mktemp("e2e-logs")

    def start(processes: int = 1, redis: bool = False, **settings: str) -> Cluster:
        channel = f"cyberscan-e2e-{uuid.uuid4().hex}" if redis else None
        if redis:
            settings = {**settings, "REDIS_URL": REDIS_URL, "SOCKETIO_CHANNEL": channel}
        servers = []
        # One after the other: the first one migrates the shared database.
        for _ in range(processes):
            server = start_server(log_dir, e2e_database_url, server_keys, **settings)
            started.append(server)
            servers.append(server)
        return Cluster(servers, e2e_database_url, server_keys, channel)

    yield start
    for server in started:
        server.stop()
    channels = {s.env.get("SOCKETIO_CHANNEL") for s in started} - {None, ""}
    if channels:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for channel in channels:
            for key in client.scan_iter(f"cyberscan:presence:{channel}:*"):
                client.delete(key)


@pytest.fixture(scope="session", params=["eventlet", "gevent"])
def single(
    request: pytest.FixtureRequest, launch: Callable[..., Cluster]
) -> Iterator[Cluster]:
    """One process, no Redis, under each async mode."""
    cluster = launch(1, SOCKETIO_ASYNC_MODE=request.param)
    yield cluster
    for server in cluster.servers:
        server.stop()


@pytest.fixture(scope="session")
def pair(launch: Callable[..., Cluster]) -> Iterator[Cluster]:
    """Two eventlet processes sharing the database and the real Redis."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    cluster = launch(2, redis=True, SOCKETIO_ASYNC_MODE="eventlet")
    yield cluster
    for server in cluster.servers:
        server.stop()


def node_available() -> bool:
    return (
        bool(shutil.which("node"))
        and (E2E_DIR / "node_modules" / "socket.io-client").is_dir()
    )


@pytest.fixture(scope="session")
def node() -> Callable[..., Any]:
    """Run an e2e/*.mjs script with a JSON input; answers its JSON output."""
    if not node_available():
        if os.environ.get("REQUIRE_E2E") == "1":
            pytest.fail(
                "REQUIRE_E2E=1 but Node.js or e2e/node_modules is missing (npm ci in e2e/)"
            )
        pytest.skip("Node.js or e2e/node_modules missing: run `npm ci` in e2e/")

    def run(script: str, payload: dict[str, Any], timeout: float = 120) -> Any:
        done = subprocess.run(
            ["node", str(E2E_DIR / script)],
            input=json.dumps(payload).encode(),
            capture_output=True,
            timeout=timeout,
            cwd=E2E_DIR,
            check=False,
        )
        out = done.stdout.decode().strip().splitlines()
        assert done.returncode == 0 and out, (
            f"{script} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}"
        )
        return json.loads(out[-1])

    return run
