"""`python run.py` as an operator meets it: one start-up line, and a clear busy-port error."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live import ROOT, LiveServer, free_port, server_env, start

pytestmark = pytest.mark.e2e

BUSY_TIMEOUT = 60
STARTING_SECONDS = 0.8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    workdir = tmp_path_factory.mktemp("startup")
    live = start(server_env(f"sqlite:///{workdir / 'live.db'}"), workdir, "run.log")
    yield live
    live.stop()


def run_py(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    """A second `python run.py` that is expected to give up on its own."""
    return subprocess.run(
        [sys.executable, "run.py"],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=BUSY_TIMEOUT,
    )


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def test_start_up_is_one_line_naming_address_mode_database_and_model(server):
    health = server.get("/api/health", token="")
    lines = Path(server.log).read_text().splitlines()
    assert len(lines) == 1, lines  # no deprecation notice, no migration chatter
    line = lines[0]
    assert line.startswith(f"CyberScan Messenger on {server.url} · "), line
    database = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    assert f"database SQLite {database}" in line
    assert "async eventlet (deprecated upstream; SOCKETIO_ASYNC_MODE=gevent" in line
    assert f"model {health['model']['version']}" in line


def test_a_second_server_on_the_same_port_refuses_in_one_line(server):
    port = port_of(server)
    result = run_py(server.env, port)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # no traceback
    assert lines[0].startswith(f"Port {port} on 127.0.0.1 is already in use")
    assert f"PORT={port + 1}" in lines[0]
    # The first server keeps the port alone and still answers.
    assert server.get("/api/health", token="")["status"] == "ok"


def test_a_port_held_by_another_program_gets_the_same_line(server):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run_py(server.env, port)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Port {port} on 127.0.0.1 is already in use (by another CyberScan server "
        f"or another program): stop that, or choose another port, "
        f"e.g. PORT={port + 1} scripts/run"
    ]


def refusal(env: dict[str, str], **settings: str) -> list[str]:
    """The stderr lines of a `python run.py` that must refuse to start (status 1)."""
    result = subprocess.run(
        [sys.executable, "run.py"],
        cwd=ROOT,
        env={**env, "PORT": str(free_port()), **settings},
        capture_output=True,
        text=True,
        timeout=BUSY_TIMEOUT,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    return result.stderr.splitlines()


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        # read while the configuration is imported
        ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED must be true or false"),
        ({"PORT": "70000"}, "PORT must be from 1 to 65535, got '70000'"),
        # an address this machine does not have: no other port would do
        ({"HOST": "10.255.255.1"}, "Cannot listen on 10.255.255.1:"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING"),
        # checked when the app is built
        ({"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY must be set to at least 32"),
        ({"DATABASE_URL": "postgres://db/x"}, "DATABASE_URL names postgres"),
        ({"SEND_LIMIT_PER_USER": "lots"}, "SEND_LIMIT_PER_USER must be a rate limit"),
        ({"REDIS_URL": "http://:pw@127.0.0.1:6379/3"}, "REDIS_URL has http, not"),
        # a dependency the server cannot use
        (
            {"DATABASE_URL": "sqlite:////nonexistent/dir/live.db"},
            "Cannot use the database SQLite /nonexistent/dir/live.db: unable to open",
        ),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "Cannot use Redis (REDIS_URL): "),
        (
            {"CLASSIFIER_PATH": "/nonexistent/model.joblib"},
            "Model artifact /nonexistent/model.joblib does not exist",
        ),
        # a file that is there but no model: refused at start, not at the first message
        # (the detector is loaded before the server listens, not on first use)
        (
            {"CLASSIFIER_PATH": str(ROOT / "README.md")},
            f"Model card {ROOT / 'README.json'} is missing",
        ),
    ],
)
def test_a_setting_or_service_it_cannot_use_stops_it_in_one_line(
    server, settings, line
):
    lines = refusal(server.env, **settings)
    assert len(lines) == 1, lines  # no traceback
    assert lines[0].startswith(line), lines


def test_a_lower_case_log_level_is_taken(server):
    """`LOG_LEVEL=debug` is DEBUG (logging itself knows only the upper-case names)."""
    lines = refusal(server.env, LOG_LEVEL="debug", JWT_SECRET_KEY="short")
    assert lines[0].startswith("JWT_SECRET_KEY must be set"), lines


@pytest.mark.parametrize("cold", [False, True], ids=["warm", "cold"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_ctrl_c_or_sigterm_while_starting_stops_it_quietly(
    server, signum, cold, tmp_path
):
    """Stopped before it serves (importing, loading the model, migrating): status 0,
    no traceback, as once it serves. Cold: no bytecode cache yet, as on a fresh clone,
    so the first imports compile for seconds and the signal lands in them."""
    cache = {"PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")} if cold else {}
    process = subprocess.Popen(
        [sys.executable, "run.py"],
        cwd=ROOT,
        env={**server.env, "PORT": str(free_port()), **cache},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(STARTING_SECONDS)  # well inside the start (the model alone takes more)
    process.send_signal(signum)
    out, err = process.communicate(timeout=BUSY_TIMEOUT)
    assert "CyberScan Messenger on" not in out, "it had started: not a test of a start"
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
