"""`bench/launch.start`: a bench server counts as started only once the process it
launched holds its port. A port handed out free can be taken by another process before
the server binds it; that process would answer /api/health in the server's place, and
the bench would measure a server it never started."""

from __future__ import annotations

import os
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import launch
from tests.helpers import hand_out_taken_port_first
from tests.test_live_start import Healthy

ROOT = Path(__file__).resolve().parents[1]
RELAY = [sys.executable, str(ROOT / "bench" / "bare_relay.py")]
ENV = {**os.environ, "SOCKETIO_ASYNC_MODE": "threading", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def other() -> int:
    """Another program on a port, answering /api/health 200 as a server would."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_start_moves_to_another_port_when_the_free_one_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other: int
) -> None:
    handed_out = hand_out_taken_port_first(launch, other, monkeypatch)
    log = tmp_path / "servers.log"
    process, url = launch.start("relay", RELAY, ENV, log, ROOT, timeout=60)
    try:
        assert handed_out[0] == other and len(handed_out) == 2
        assert url == f"http://127.0.0.1:{handed_out[1]}"
        assert "in use" in log.read_text()
        # The port answering is held by the process launched, not by the stand-in.
        assert launch.listens(process.pid, handed_out[1])
        assert not launch.listens(process.pid, other)
        assert launch.listens(os.getpid(), other)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_server_that_fails_for_another_reason_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed_out: list[int] = []
    real_free_port = launch.free_port

    def free_port() -> int:
        handed_out.append(real_free_port())
        return handed_out[-1]

    monkeypatch.setattr(launch, "free_port", free_port)
    log = tmp_path / "servers.log"
    argv = [sys.executable, "-c", "print('bad configuration'); raise SystemExit(3)"]
    with pytest.raises(SystemExit, match="relay exited on start; see "):
        launch.start("relay", argv, ENV, log, ROOT, timeout=60)
    assert len(handed_out) == 1
    assert "bad configuration" in log.read_text()


def test_a_server_that_never_answers_is_killed_and_reported(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(SystemExit, match="relay not ready within 1s"):
        launch.start("relay", argv, ENV, tmp_path / "servers.log", ROOT, timeout=1)


def test_listener_inodes_sees_only_listening_sockets_on_the_port() -> None:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        assert launch.listener_inodes(port) == set()  # bound, not listening
        bound.listen()
        inodes = launch.listener_inodes(port)
        assert len(inodes) == 1 and launch.holds(os.getpid(), inodes)
