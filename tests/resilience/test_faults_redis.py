"""Redis stopped and restarted under two live processes.

While it is down: sends are refused with `unavailable` (socket and REST), REST answers
503 (never 500), a new connection is refused with `connect_error` `unavailable`, and an
admin block is committed and reported as such. When it is back: the block's kick
reaches the user's connection on the other process, so does the kick of a block made
the moment Redis is back (before the processes listen again), and presence is rebuilt
from the connections each process holds. A block whose kept event died with its
process still reaches the user's connection on another process, with its reason (that
process's session check). The Redis server is this test's own. What the outage
logs is written once, one line a record (it was written twice, or three times for
python-socketio's lines: Flask's handler, python-socketio's and alembic's root one),
and each process logs the first request or event it refused, not every one.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import socketio

from cyberscan.realtime.sessions import SESSION_CHECK_SECONDS
from cyberscan.services import auth
from tests.live import server_env, start
from tests.resilience.conftest import assert_clean_log, make_admin, unique
from tests.resilience.owned import OwnedRedis

pytestmark = [
    pytest.mark.e2e,
    # A dependency or server stopped under a client leaves that client's socket to
    # the garbage collector, which may close it during a later test.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("collect_sockets_left_behind"),
]

RECOVERY_SECONDS = 45


def online(server: Any, token: str) -> dict[str, bool]:
    status, body = server.request("GET", "/api/chat/online-users", token=token)
    assert status == 200, body
    return {item["username"]: item["online"] for item in body}


def refusal(url: str, token: str) -> Any:
    """The `error` code of the connect_error a fresh connection gets (None if none)."""
    client = socketio.Client(reconnection=False)
    seen: list[Any] = []
    client.on("connect_error", lambda data=None: seen.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            url, auth={"token": token}, transports=["websocket"], wait_timeout=15
        )
    client.disconnect()
    # python-socketio hands over {"message": <code>, "data": {error, message}}.
    assert seen and isinstance(seen[0], dict), seen
    return seen[0].get("data", {}).get("error")


def assert_logged_once(server: Any) -> None:
    """The outage's records, each once and in the server's one format."""
    # After the one startup line, which names the "Redis message queue" too.
    lines = server.log.read_text(errors="replace").splitlines()[1:]
    noted = [line for line in lines if "redis" in line or "message queue" in line]
    assert sum("message queue back:" in line for line in noted) == 1, noted
    assert any("Cannot receive from redis" in line for line in noted), noted
    record = re.compile(r"^\[[0-9-]+ [0-9:,]+\] [A-Z]+ [a-z._]+: ")
    assert all(record.match(line) for line in noted), noted


def assert_refusals_logged_once(server: Any) -> list[str]:
    """The process logged the first request or event it refused in the outage, not
    the others (they came within OUTAGE_LOG_SECONDS); answers its log's lines."""
    lines = server.log.read_text(errors="replace").splitlines()
    refused = [line for line in lines if "Redis unavailable:" in line]
    assert len(refused) == 1, refused
    return lines


def eventually(check: Any, timeout: float = RECOVERY_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_redis_outage_refuses_cleanly_and_recovers(
    tmp_path, live_database, servers, clients
):
    redis = OwnedRedis(tmp_path).start()
    try:
        # A short heartbeat: presence is rebuilt within 2 s of Redis coming back.
        env = server_env(
            live_database,
            redis_url=redis.url,
            channel=unique("cyberscan-res-"),
            PRESENCE_HEARTBEAT_SECONDS="2",
        )
        a = start(env, tmp_path, "a.log")
        servers.append(a)
        b = start(env, tmp_path, "b.log")
        servers.append(b)
        boss, alice, bob, carol, dave, erin = (
            unique(p) for p in ("boss", "al", "bo", "ca", "da", "er")
        )
        a.sign_up(boss)
        make_admin(live_database, boss)
        boss_token = a.login(boss)
        alice_token, bob_token, carol_token, dave_token, erin_token = (
            a.register(name) for name in (alice, bob, carol, dave, erin)
        )
        alice_a = clients(a.url, alice_token)
        alice_b = clients(b.url, alice_token)
        bob_b = clients(b.url, bob_token)
        carol_a = clients(a.url, carol_token)
        erin_b = clients(b.url, erin_token)
        # Contacts (private presence): bob has talked with alice and carol.
        for name in (alice, carol):
            assert bob_b.call("send_message", {"receiver": name, "message": "hi"})["ok"]
        assert online(a, carol_token)[bob] is True

        # Defect 1: an event named `disconnect` used to drop dave's connection on B
        # from presence, and a block through A then left it open.
        dave_b = clients(b.url, dave_token)
        dave_b.sio.emit("disconnect")
        assert dave_b.wait("error")["error"] == "bad_request"
        status, answer = a.request(
            "POST", f"/api/admin/users/{dave}/block", {"reason": "spoof"}, boss_token
        )
        assert status == 200, answer
        assert dave_b.closed.wait(15), dave_b.log
        assert dave_b.named("account_blocked") == [{"reason": "spoof"}]

        redis.stop(kill=True)

        ack = bob_b.call("send_message", {"receiver": carol, "message": "lost?"})
        assert (ack["ok"], ack["error"]) == (False, "unavailable"), ack
        # No other process could relay it: refused as a message is, not acked ok.
        ack = bob_b.call("typing", {"receiver": carol, "is_typing": True})
        assert (ack["ok"], ack["error"]) == (False, "unavailable"), ack
        for method, path, body in (
            ("POST", f"/api/chat/messages/{carol}", {"message": "lost?"}),
            ("GET", "/api/chat/online-users", None),
            ("GET", "/api/chat/conversations", None),
        ):
            status, answer = a.request(method, path, body, token=bob_token)
            assert (status, answer["error"]) == (503, "unavailable"), (path, answer)
        assert refusal(a.url, carol_token) == "unavailable"

        status, answer = a.request(
            "POST", f"/api/admin/users/{alice}/block", {"reason": "outage"}, boss_token
        )
        assert status == 200, answer
        assert answer["user"]["is_blocked"] is True
        assert alice_a.closed.wait(15), "the local connection was not closed"

        redis.start()
        # Redis answers again before the processes' listeners have subscribed again:
        # a block published now reaches no process at first (pub/sub keeps nothing),
        # and used to be lost, its connection on B open for good.
        status, answer = a.request(
            "POST", f"/api/admin/users/{erin}/block", {"reason": "after"}, boss_token
        )
        assert status == 200, answer

        assert alice_b.closed.wait(RECOVERY_SECONDS), alice_b.log
        assert alice_b.named("account_blocked") == [{"reason": "outage"}]
        assert erin_b.closed.wait(RECOVERY_SECONDS), erin_b.log
        assert erin_b.named("account_blocked") == [{"reason": "after"}]
        # Presence rebuilt: bob's connection predates the restart.
        assert eventually(lambda: online(a, carol_token).get(bob)), online(
            a, carol_token
        )
        ack = eventually(
            lambda: bob_b.call("send_message", {"receiver": carol, "message": "back"})[
                "ok"
            ]
        )
        assert ack
        assert carol_a.wait("receive_message", lambda m: m["message"] == "back")
        # Typing goes to a receiver presence shows online: carol's connection, too,
        # is back in presence (a message meanwhile is stored, and still delivered).
        assert eventually(lambda: online(a, bob_token).get(carol)), online(a, bob_token)
        assert bob_b.call("typing", {"receiver": carol, "is_typing": True})["ok"]
        assert carol_a.wait("user_typing", lambda m: m["sender"] == bob)
        for server in (a, b):
            assert_clean_log(server)
        assert_logged_once(a)
        assert_refusals_logged_once(a)
        # B only refused bob's two events: the `error` event to his socket is B's
        # own, never published (each was logged twice as lost: retrying, giving up).
        assert not [x for x in assert_refusals_logged_once(b) if "Cannot publish" in x]
    finally:
        redis.stop(kill=False)


def test_a_block_whose_publication_died_with_its_process_still_says_why(
    tmp_path, live_database, servers, clients
):
    """Redis is down when an admin blocks alice through A: A keeps `account_blocked`
    to publish later, and then stops, so it never does. B's session check closes
    alice's connection there with `account_blocked` and the block's reason. The check
    used to close it as a revoked token, saying nothing (a block revokes every
    token); on a loaded machine it did so after an outage too, before A's kept
    publication reached B."""

    redis = OwnedRedis(tmp_path).start()
    try:
        env = server_env(live_database, redis_url=redis.url, channel=unique("cs-"))
        a = start(env, tmp_path, "a.log")
        servers.append(a)
        b = start(env, tmp_path, "b.log")
        servers.append(b)
        boss, alice = unique("boss"), unique("al")
        a.sign_up(boss)
        make_admin(live_database, boss)
        boss_token = a.login(boss)
        alice_b = clients(b.url, a.register(alice))
        redis.stop(kill=True)
        status, answer = a.request(
            "POST", f"/api/admin/users/{alice}/block", {"reason": "threats"}, boss_token
        )
        assert (status, answer["user"]["is_blocked"]) == (200, True), answer
        a.stop()
        # The check leaves a block FRESH_BLOCK to its own event, then closes it.
        wait = auth.FRESH_BLOCK.total_seconds() + SESSION_CHECK_SECONDS * 3
        assert alice_b.closed.wait(wait), alice_b.log
        assert alice_b.named("account_blocked") == [{"reason": "threats"}]
        assert_clean_log(b)
    finally:
        redis.stop(kill=False)
