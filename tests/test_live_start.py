"""`tests.live.start`: a server counts as started only once the process it launched
holds its port. Under xdist another test's server can take a port between
`free_port()` and run.py's bind, and answer /api/health in its place (seen in CI:
one test then spoke to a server another test stopped)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import live
from tests.helpers import hand_out_taken_port_first


class Healthy(BaseHTTPRequestHandler):
    """Another program on the port: it answers /api/health 200, as a server would."""

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_start_moves_to_another_port_when_the_free_one_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    taken = other.server_address[1]
    handed_out = hand_out_taken_port_first(live, taken, monkeypatch)
    server = live.start(live.server_env(f"sqlite:///{tmp_path / 'live.db'}"), tmp_path)
    try:
        assert handed_out[0] == taken and len(handed_out) == 2
        assert server.url == f"http://127.0.0.1:{handed_out[1]}"
        assert "is already in use" in (tmp_path / f"server-{taken}.log").read_text()
        assert live.listening(server)
        # The server the test holds is the one it launched: its health names a model.
        status, body = server.request("GET", "/api/health")
        assert status == 200 and body["model"]["version"]
    finally:
        server.stop()
        other.shutdown()
        other.server_close()
