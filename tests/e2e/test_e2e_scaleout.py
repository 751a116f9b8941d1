"""Two server processes sharing one database and the real Redis (queue + presence)."""

from __future__ import annotations

import pytest

from cyberscan.realtime.sessions import SESSION_CHECK_SECONDS
from tests.e2e.pyclient import block_closes_tabs
from tests.e2e.test_e2e_js_client import chat
from tests.live import free_port
from tests.test_cli import run_command

pytestmark = pytest.mark.e2e

SENDERS = 8
PER_SENDER = 150  # 1,200 messages in all, 80 in flight at once


def test_users_on_different_processes_chat(pair, node):
    chat(node, pair, servers=(0, 1, 0))


def test_every_device_on_every_process_gets_the_message(pair, clients):
    alice, bob = pair.account("a"), pair.account("b")
    one, two = pair.servers
    alice_a = clients(one.url, alice.token)
    alice_b = clients(two.url, alice.token, transports=("websocket",))
    bob_b = clients(two.url, bob.token)
    bob_a = clients(one.url, bob.token, transports=("websocket",))
    ack = bob_b.call(
        "send_message", {"receiver": alice.username, "message": "to all tabs"}
    )
    assert ack["ok"] and ack["data"]["status"] == "delivered"
    for tab in (alice_a, alice_b, bob_a):
        assert tab.wait("receive_message")["id"] == ack["data"]["id"]
    assert bob_b.wait("message_sent")["id"] == ack["data"]["id"]
    assert bob_b.named("receive_message") == []


def test_both_processes_see_the_same_online_list(pair, clients):
    alice, bob, carol = pair.account("a"), pair.account("b"), pair.account("c")
    one, two = pair.servers
    # Presence is private (API.md §9): the three are each other's contacts.
    for sender, receiver in ((alice, bob), (carol, alice), (carol, bob)):
        status, _ = one.request(
            "POST",
            f"/api/chat/messages/{receiver.username}",
            {"message": "hi"},
            sender.token,
        )
        assert status == 201
    clients(one.url, alice.token)
    bob_socket = clients(two.url, bob.token)
    assert {alice.username, bob.username} <= set(bob_socket.wait("online_users"))
    for server in pair.servers:
        online = {
            u["username"]: u["online"]
            for u in server.get("/api/chat/online-users", carol.token)
        }
        assert online[alice.username] is True and online[bob.username] is True
        assert online.get(carol.username) is None  # the caller is not listed
    watcher = clients(one.url, carol.token)
    bob_socket.close()
    assert watcher.wait("user_left", lambda name: name == bob.username)
    online = {
        u["username"]: u["online"]
        for u in one.get("/api/chat/online-users", carol.token)
    }
    assert online[bob.username] is False


def test_block_on_one_process_closes_connections_on_the_other(pair, clients):
    admin, bob = pair.account("adm", admin=True), pair.account("b")
    one, two = pair.servers
    tabs = [
        clients(two.url, bob.token),
        clients(one.url, bob.token, transports=("websocket",)),
    ]
    block_closes_tabs(one, admin.token, bob.username, "scale-out", tabs)


def test_a_password_reset_run_without_the_queue_still_closes_every_socket(
    pair, clients
):
    """`flask reset-password` run without the servers' REDIS_URL (an operator's shell
    missing it) publishes no close; each process's session check closes the account's
    sockets all the same."""
    dave = pair.account("d")
    one, two = pair.servers
    tabs = [clients(one.url, dave.token), clients(two.url, dave.token)]
    result = run_command(
        ["reset-password", dave.username], one.env["DATABASE_URL"], REDIS_URL=""
    )
    assert result.returncode == 0, result.stderr
    for tab in tabs:
        assert tab.closed.wait(SESSION_CHECK_SECONDS * 3), "the socket stayed open"


def test_a_password_reset_while_the_queue_is_down_says_so_once_and_closes_every_socket(
    pair, clients
):
    """`flask reset-password` whose REDIS_URL does not answer (Redis down, or the
    wrong address in the operator's shell): the password is set, one line on stderr
    says that no server was told and when the sockets close, with none of
    python-socketio's retries and nothing "kept" by a process about to exit; each
    process's session check closes the account's sockets."""
    erin = pair.account("e")
    one, two = pair.servers
    tabs = [clients(one.url, erin.token), clients(two.url, erin.token)]
    result = run_command(
        ["reset-password", erin.username],
        one.env["DATABASE_URL"],
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    assert result.returncode == 0, result.stderr
    assert "every session it had is signed out" in result.stdout
    assert result.stderr == (
        "The message queue (REDIS_URL) did not answer, so no server was told: each "
        "closes the account's open sockets at its next session check, within "
        f"{SESSION_CHECK_SECONDS:g} seconds.\n"
    )
    for tab in tabs:
        assert tab.closed.wait(SESSION_CHECK_SECONDS * 3), "the socket stayed open"


def test_saturation_every_acknowledged_message_is_delivered_or_in_history(pair, node):
    senders = [pair.account("s") for _ in range(SENDERS)]
    receivers = [pair.account("r") for _ in range(SENDERS)]
    pairs = [
        {"sender": pair.who(s, i % 2), "receiver": pair.who(r, (i + 1) % 2)}
        for i, (s, r) in enumerate(zip(senders, receivers, strict=True))
    ]
    result = node(
        "blast.mjs",
        {"pairs": pairs, "messages": PER_SENDER, "window": 10, "settle_ms": 15000},
        timeout=300,
    )
    acked = result["acked"]
    assert acked, result
    assert len({a["id"] for a in acked}) == len(acked)  # no duplicates
    live = {mid for ids in result["received"].values() for mid in ids}
    by_pair: dict[tuple[str, str], set[str]] = {}
    for a in acked:
        by_pair.setdefault((a["sender"], a["receiver"]), set()).add(a["id"])
    tokens = {r.username: r.token for r in receivers}
    stored: set[str] = set()
    for sender, receiver in by_pair:
        cursor = None
        while True:
            path = f"/api/chat/messages/{sender}?limit=100"
            if cursor:
                path += f"&cursor={cursor}"
            page = pair.first.get(path, tokens[receiver])
            stored.update(m["id"] for m in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
    lost = [a["id"] for a in acked if a["id"] not in live and a["id"] not in stored]
    assert lost == [], f"{len(lost)} acknowledged messages neither delivered nor stored"
    # Stronger: a message is acknowledged only after its commit, so all are stored.
    assert [a["id"] for a in acked if a["id"] not in stored] == []
    failures = {k: v for k, v in result["failed"].items() if k != "unavailable"}
    assert failures == {}, result["failed"]
    print(
        f"\nsaturation: {len(acked)} acknowledged of {SENDERS * PER_SENDER}, "
        f"{len(live & {a['id'] for a in acked})} delivered live, "
        f"{result['timeouts']} ack timeouts, {result['failed']} refused, "
        f"{result['elapsed']:.1f}s"
    )


@pytest.fixture(scope="module")
def limited_pair(launch):
    cluster = launch(
        2,
        redis=True,
        async_mode="gevent",
        RATELIMIT_ENABLED="true",
        SEND_LIMIT_PER_USER="5 per minute",
    )
    yield cluster
    cluster.stop()


def test_send_rate_limit_is_shared_by_processes(limited_pair, clients):
    alice, bob = limited_pair.account("a"), limited_pair.account("b")
    one, two = limited_pair.servers
    tab_one = clients(one.url, alice.token)
    tab_two = clients(two.url, alice.token, transports=("websocket",))
    answers = [
        tab.call("send_message", {"receiver": bob.username, "message": f"m{i}"})
        for i, tab in enumerate([tab_one, tab_two] * 3)
    ]
    assert [a["ok"] for a in answers] == [True] * 5 + [False]
    assert answers[5]["error"] == "rate_limited" and answers[5]["retry_after"] >= 1
    history = one.get(f"/api/chat/messages/{bob.username}", alice.token)
    assert len(history["items"]) == 5
