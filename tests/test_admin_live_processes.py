"""Actions on one server process reach live connections on another (Redis queue).

Two `python run.py` processes share one database and one Redis. A user is connected to
process B; an admin (or the user) acts through the REST API of process A. The client speaks the
Engine.IO v4 / Socket.IO v5 long-polling protocol over plain HTTP, so the test needs no
extra client library.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import PASSWORD
from tests.live import REDIS_URL, LiveServer, server_env, start, stop_all

pytestmark = pytest.mark.e2e

RECORD_SEPARATOR = "\x1e"
# The bounds these processes have always had: healthy within 45 s, answers within 20 s.
START_TIMEOUT = 45.0
REQUEST_TIMEOUT = 20.0


class PollingSocket:
    """A minimal Socket.IO client over HTTP long-polling, on the default namespace."""

    def __init__(self, url: str, token: str) -> None:
        self.base = f"{url}/socket.io/?EIO=4&transport=polling"
        opened = self._get(self.base)
        assert opened.startswith("0"), opened
        self.sid = json.loads(opened[1:])["sid"]
        self.base += f"&sid={self.sid}"
        self._post("40" + json.dumps({"token": token}))
        self.connected: bool | None = None
        self.refusal: Any = None
        self.events: list[tuple[str, Any]] = []
        while self.connected is None:
            self.poll()

    def _get(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=40) as response:  # noqa: S310
            return response.read().decode()

    def _post(self, body: str) -> None:
        request = urllib.request.Request(  # noqa: S310  (http to the live server)
            self.base, data=body.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200

    def poll(self) -> None:
        """One long-poll: record events, answer pings, notice disconnects."""
        try:
            payload = self._get(self.base)
        except urllib.error.HTTPError:  # the server dropped this Engine.IO session
            self.connected = False
            return
        for packet in payload.split(RECORD_SEPARATOR):
            if packet == "2":  # Engine.IO ping
                self._post("3")
            elif packet == "1" or packet.startswith("41"):
                self.connected = False
            elif packet.startswith("40"):
                self.connected = True
            elif packet.startswith("44"):
                self.connected = False
                self.refusal = json.loads(packet[2:] or "null")
            elif packet.startswith("42"):
                name, *args = json.loads(packet[2:])
                self.events.append((name, args[0] if args else None))

    def wait_for(self, name: str, polls: int = 5) -> Any:
        """The payload of the next event `name` (a few long-polls at most)."""
        for _ in range(polls):
            for index, (event, payload) in enumerate(self.events):
                if event == name:
                    del self.events[: index + 1]
                    return payload
            if self.connected is False:
                break
            self.poll()
        pytest.fail(f"no {name!r} event; got {self.events}")

    def wait_closed(self, polls: int = 5) -> None:
        for _ in range(polls):
            if self.connected is False:
                return
            self.poll()
        pytest.fail("the server did not close the connection")


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Process A and process B: one SQLite file, one Redis, a channel of their own."""
    workdir = tmp_path_factory.mktemp("two")
    env = server_env(
        f"sqlite:///{workdir / 'shared.db'}",
        redis_url=REDIS_URL,
        # Its own pub/sub channel: no other test run's events reach these processes.
        channel=f"cyberscan-test-{secrets.token_hex(6)}",
    )
    servers: list[LiveServer] = []
    try:
        # One after the other: the first applies the migrations.
        for name in ("a.log", "b.log"):
            servers.append(
                start(
                    env,
                    workdir,
                    name,
                    start_timeout=START_TIMEOUT,
                    request_timeout=REQUEST_TIMEOUT,
                )
            )
        yield servers[0], servers[1]
    finally:
        stop_all(servers)


def test_admin_actions_on_process_a_reach_a_connection_on_process_b(two_processes):
    a, b = two_processes
    a.create_admin("boss")
    boss = a.login("boss")
    token = a.register("bully")

    sock = PollingSocket(b.url, token)
    assert sock.connected, sock.refusal
    sock.wait_for("online_users")

    status, body = a.request(
        "POST", "/api/admin/users/bully/mute", {"minutes": 5}, token=boss
    )
    assert status == 200, body
    assert sock.wait_for("muted")["muted_until"] == body["user"]["muted_until"]
    status, body = b.request("POST", "/api/post", {"content": "hello"}, token=token)
    assert (status, body["error"]) == (403, "muted")
    a.request("POST", "/api/admin/users/bully/unmute", {}, token=boss)
    assert sock.wait_for("muted")["muted_until"] is None

    status, _ = a.request(
        "POST", "/api/admin/users/bully/kick", {"reason": "bye"}, token=boss
    )
    assert status == 200
    assert sock.wait_for("kicked") == {"reason": "bye"}
    sock.wait_closed()

    sock = PollingSocket(b.url, token)
    assert sock.connected, sock.refusal
    status, _ = a.request(
        "POST", "/api/admin/users/bully/block", {"reason": "abuse"}, token=boss
    )
    assert status == 200
    assert sock.wait_for("account_blocked") == {"reason": "abuse"}
    sock.wait_closed()
    refused = PollingSocket(b.url, token)
    assert refused.connected is False
    assert "blocked" in json.dumps(refused.refusal)
    status, body = b.request(
        "POST", "/api/login", {"username": "bully", "password": PASSWORD}
    )
    assert (status, body["error"]) == (403, "blocked")

    status, _ = a.request("POST", "/api/admin/users/bully/unblock", {}, token=boss)
    assert status == 200
    status, body = b.request(
        "POST", "/api/login", {"username": "bully", "password": PASSWORD}
    )
    assert status == 200
    again = PollingSocket(b.url, body["access_token"])
    assert again.connected, again.refusal


def test_two_people_unsent_apart_on_one_process_meet_again_on_the_other(
    two_processes,
):
    """Process B remembers for a while that two people are contacts (no query a
    message). When the only message between them is unsent on process A, they are
    no contacts any more; the next message on B makes them contacts again, and each
    must see the other come online (before, B's memory skipped that for 60 s)."""
    a, b = two_processes
    tokens = {name: a.register(name) for name in ("nell", "otto")}
    nell, otto = (PollingSocket(b.url, tokens[name]) for name in ("nell", "otto"))
    for sock in (nell, otto):
        assert sock.connected, sock.refusal
        assert sock.wait_for("online_users") == ["nell" if sock is nell else "otto"]

    def send(text: str) -> dict[str, Any]:
        status, body = b.request(
            "POST", "/api/chat/messages/otto", {"message": text}, token=tokens["nell"]
        )
        assert status == 201, body
        return body

    first = send("hi otto")
    assert nell.wait_for("user_joined") == "otto"
    assert otto.wait_for("user_joined") == "nell"

    status, body = a.request(
        "DELETE", f"/api/chat/messages/{first['id']}", token=tokens["nell"]
    )
    assert status == 200, body
    assert nell.wait_for("user_left") == "otto"
    assert otto.wait_for("user_left") == "nell"

    send("sorry, wrong chat; hi again")
    assert nell.wait_for("user_joined") == "otto"
    assert otto.wait_for("user_joined") == "nell"
