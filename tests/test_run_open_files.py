"""`python run.py` under an open-file limit below what SOCKETIO_MAX_CONNECTIONS needs.

systemd gives a service 1024 open files unless told otherwise, and the default
SOCKETIO_MAX_CONNECTIONS is 10000. Here the limit is 256, soft and hard (so it cannot be
raised): a few hundred idle TCP connections, which anyone can open, used to end an
eventlet server (accept() raised EMFILE out of eventlet.wsgi) and to fill a gevent
server's log with tracebacks. Now the server says at start, in one log line, how many
connections it will serve at once, holds the rest in the backlog and keeps answering.
"""

from __future__ import annotations

import re
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import ROOT, LiveServer, free_port, server_env, wait_healthy

pytestmark = pytest.mark.e2e

OPEN_FILES = 256
IDLE_CONNECTIONS = 300
LOG_LINE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] [A-Z]+ [\w.]+: ")


def limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


@pytest.fixture(params=["eventlet", "gevent"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """One server allowed 256 open files; HEADER_TIMEOUT keeps idle clients a while."""
    port = free_port()
    env = server_env(
        f"sqlite:///{tmp_path / 'live.db'}",
        async_mode=request.param,
        LOG_LEVEL="INFO",
        HEADER_TIMEOUT="60",
        PORT=str(port),
    )
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env, log=tmp_path / "log")
    with server.log.open("wb") as out:
        server.process = subprocess.Popen(
            [sys.executable, "run.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_open_files,  # noqa: PLW1509  (no threads in the test yet)
        )
    try:
        wait_healthy(server)
        yield server
    finally:
        server.stop()


def test_idle_connections_past_the_open_file_limit_do_not_end_the_server(limited):
    port = int(limited.url.rsplit(":", 1)[1])
    idle: list[socket.socket] = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        assert limited.process is not None
        assert limited.process.poll() is None, limited.log_tail()
    finally:
        for connection in idle:
            connection.close()
    # The idle ones gone, the server answers again.
    assert limited.get("/api/health", token="")["status"] == "ok"
    assert limited.process.poll() is None
    startup, *records = limited.log.read_text().splitlines()
    assert startup.startswith(f"CyberScan Messenger on {limited.url} · ")
    assert all(LOG_LINE.match(line) for line in records), records  # no traceback
    assert len(records) == 1, records
    assert records[0].endswith(
        " WARNING cyberscan.serve: SOCKETIO_MAX_CONNECTIONS=10000 needs 10128 open "
        f"files but this process may open {OPEN_FILES} (ulimit -n; LimitNOFILE under "
        "systemd): serving at most 128 connections at once"
    ), records
