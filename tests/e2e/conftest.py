"""Live `python run.py` processes for the end-to-end tests, and the clients that drive them.

Each server gets its own environment (tests/live.py): production config with generated
secrets, rate limits off, a database of its own (a temporary SQLite file, or
`cyberscan_e2e_test` on MySQL/MariaDB when TEST_DATABASE_URL is a MySQL URL: the main
suite empties its tables after every test, so the live servers never share them), and
for the Redis runs a Socket.IO channel unique to the run so parallel or repeated runs
never hear each other.

Without Node.js (and e2e/node_modules) or a reachable Redis the tests that need them
skip, unless REQUIRE_E2E=1 (CI), where either is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.e2e.pyclient import PyClient
from tests.helpers import scratch_database
from tests.live import (
    REDIS_URL,
    ROOT,
    LiveServer,
    new_keys,
    server_env,
    start,
    stop_all,
)

E2E_DIR = ROOT / "e2e"


def unavailable(reason: str) -> NoReturn:
    """Skip for want of `reason`; under REQUIRE_E2E=1 (CI) that is a failure instead."""
    if os.environ.get("REQUIRE_E2E") == "1":
        pytest.fail(f"REQUIRE_E2E=1 but {reason}")
    pytest.skip(reason)


def require_redis() -> None:
    """The real Redis at REDIS_URL answers a PING (else `unavailable`)."""
    try:
        import redis
    except ImportError:
        unavailable("the redis package is not installed")
    try:
        with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
            client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL} ({error})")


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

    @property
    def first(self) -> LiveServer:
        return self.servers[0]

    def account(self, prefix: str = "u", *, admin: bool = False) -> Account:
        """Register and log in a fresh user (unique name per call) through process one."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        user_id = self.first.sign_up(name)["id"]
        if admin:
            self.sql(
                "UPDATE users SET is_admin = :yes WHERE id = :id", yes=True, id=user_id
            )
        return Account(name, self.first.login(name), user_id)

    def who(self, account: Account, server: int = 0) -> dict[str, str]:
        """How an e2e/*.mjs script connects `account` to process `server`."""
        return {
            "url": self.servers[server].url,
            "token": account.token,
            "name": account.username,
        }

    def sql(self, statement: str, **params: Any) -> None:
        engine = sa.create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
        engine.dispose()

    def stop(self) -> None:
        stop_all(self.servers)


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the live servers only (recreated per session)."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("mysql"):
        # Named after the suite's own database, so parallel runs never share one.
        name = make_url(test_url).database.removesuffix("_test") + "_e2e_test"
        with scratch_database(test_url, name) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'live.db'}"


@pytest.fixture(scope="session")
def server_keys() -> dict[str, str]:
    return new_keys()


@pytest.fixture(scope="session")
def launch(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_database_url: str,
    server_keys: dict[str, str],
) -> Iterator[Callable[..., Cluster]]:
    """Start clusters on demand; every process is stopped at the end of the session."""
    started: list[LiveServer] = []
    log_dir = tmp_path_factory.mktemp("e2e-logs")

    def launch_cluster(
        processes: int = 1,
        redis: bool = False,
        async_mode: str = "eventlet",
        **settings: str,
    ) -> Cluster:
        channel = None
        if redis:
            require_redis()
            channel = f"cyberscan-e2e-{uuid.uuid4().hex}"
        env = server_env(
            e2e_database_url,
            async_mode=async_mode,
            redis_url=REDIS_URL if redis else "",
            channel=channel or "",
            keys=server_keys,
            **settings,
        )
        servers = []
        # One after the other: the first one migrates the shared database.
        for _ in range(processes):
            server = start(env, log_dir)
            started.append(server)
            servers.append(server)
        return Cluster(servers, e2e_database_url, server_keys, channel)

    yield launch_cluster
    stop_all(started)
    channels = {s.env["SOCKETIO_CHANNEL"] for s in started} - {""}
    if channels:
        import redis

        with redis.Redis.from_url(REDIS_URL) as client:
            for channel in channels:
                for key in client.scan_iter(f"cyberscan:presence:{channel}:*"):
                    client.delete(key)


def one_process(launch: Callable[..., Cluster], **settings: str) -> Iterator[Cluster]:
    """A fixture's body: one eventlet process with these settings, stopped after."""
    cluster = launch(1, **settings)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=["eventlet", "gevent"])
def single(
    request: pytest.FixtureRequest, launch: Callable[..., Cluster]
) -> Iterator[Cluster]:
    """One process, no Redis, under each async mode."""
    cluster = launch(1, async_mode=request.param)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def limited(launch: Callable[..., Cluster]) -> Iterator[Cluster]:
    """One process with its rate limits on, a connection allowed 5 events a minute
    and 2 seconds to finish connecting."""
    yield from one_process(
        launch,
        RATELIMIT_ENABLED="true",
        SOCKET_EVENT_LIMIT="5 per minute",
        SOCKET_CONNECT_TIMEOUT="2",
    )


@pytest.fixture(scope="session")
def pair(launch: Callable[..., Cluster]) -> Iterator[Cluster]:
    """Two eventlet processes sharing the database and the real Redis."""
    cluster = launch(2, redis=True)
    yield cluster
    cluster.stop()


def node_available() -> bool:
    return (
        bool(shutil.which("node"))
        and (E2E_DIR / "node_modules" / "socket.io-client").is_dir()
    )


@pytest.fixture(scope="session")
def node() -> Callable[..., Any]:
    """Run an e2e/*.mjs script with a JSON input; answers its JSON output."""
    if not node_available():
        unavailable("Node.js or e2e/node_modules is missing: run `npm ci` in e2e/")

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


@pytest.fixture
def clients() -> Iterator[Callable[..., PyClient]]:
    """Open python-socketio clients (connected); every one is closed after the test."""
    opened: list[PyClient] = []

    def open_client(url: str, token: str | None, **kwargs: Any) -> PyClient:
        client = PyClient(url, token, **kwargs)
        opened.append(client)
        return client.connect()

    yield open_client
    for client in opened:
        client.close()
