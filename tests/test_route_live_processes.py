"""The routed queue (SOCKETIO_ROUTE=process) with three live processes and real Redis.

Processes A and B hold the connections of the people talking; C holds one of someone
who takes no part. The test listens on the Redis
channels itself: the shared one and every process's own (`<channel>:proc:*`). Messages
across processes all arrive; each routed emit goes only to the processes holding the
receiver (C gets none of them), and none of them takes the shared channel; presence
announcements reach contacts on the other process; a kick and a block close the
user's connections on both processes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from cyberscan.live import route
from tests.e2e.pyclient import PyClient
from tests.live import REDIS_URL, LiveServer, new_keys, server_env, start, stop_all
from tests.resilience.conftest import assert_clean_log, make_admin

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("collect_sockets_left_behind"),
]

MESSAGES_EACH_WAY = 40


class Tap:
    """Every message published on the deployment's channels, as (channel, emit)."""

    def __init__(self, url: str, channel: str) -> None:
        self.channel = channel
        self.redis = redis.Redis.from_url(url)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.pubsub.psubscribe(route.process_channel(channel, "*"))
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop = False
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] in ("message", "pmessage"):
                with self._lock:
                    self.seen.append(
                        (message["channel"].decode(), json.loads(message["data"]))
                    )

    def emits(self, event: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [
                (channel, data)
                for channel, data in self.seen
                if data.get("method") == "emit" and data.get("event") == event
            ]

    def channels(self) -> set[str]:
        with self._lock:
            return {channel for channel, _ in self.seen}

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self.pubsub.close()
        self.redis.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[list[LiveServer], str]]:
    """A, B and C on one SQLite file and one Redis, routed, a channel of their own."""
    channel = f"cyberscan-route-{secrets.token_hex(6)}"
    # A deployment past its first start's warm-up (live/route.py): routed at once.
    client = redis.Redis.from_url(REDIS_URL)
    client.set(f"cyberscan:presence:{channel}:route:epoch", "1")
    env = server_env(
        f"sqlite:///{tmp_path / 'shared.db'}",
        redis_url=REDIS_URL,
        channel=channel,
        SOCKETIO_ROUTE="process",
    )
    servers: list[LiveServer] = []
    try:
        for name in ("a.log", "b.log", "c.log"):  # the first applies the migrations
            servers.append(start(env, tmp_path, name))
        yield servers, channel
    finally:
        stop_all(servers)
        client.delete(*client.keys(f"cyberscan:presence:{channel}:*") or ["-"])
        client.close()


def holders(channel: str, user_id: int) -> set[str]:
    """The process ids presence lists for the user's connections."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return set(client.hvals(f"cyberscan:presence:{channel}:user:{user_id}"))
    finally:
        client.close()


def process_channels(channel: str) -> set[str]:
    """Every process's own channel that has a subscriber now."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return set(client.pubsub_channels(route.process_channel(channel, "*")))
    finally:
        client.close()


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def test_routed_queue_delivers_across_processes_and_spares_the_idle_one(
    cluster, clients
):
    (a, b, c), channel = cluster
    tap = Tap(REDIS_URL, channel)
    try:
        run_scenario(a, b, c, channel, tap, clients)
    finally:
        tap.close()
    for server in (a, b, c):
        assert_clean_log(server)


def run_scenario(a, b, c, channel, tap, clients) -> None:
    alice, bob, carol, dave, boss = "alice", "bob", "carol", "dave", "boss"
    names = (alice, bob, carol, dave, boss)
    ids = {name: a.sign_up(name)["id"] for name in names}
    make_admin(a.env["DATABASE_URL"], boss)
    tokens = {name: a.login(name) for name in names}

    alice_a = clients(a.url, tokens[alice])
    bob_b = clients(b.url, tokens[bob])
    bob_a = clients(a.url, tokens[bob])  # bob's second device, on alice's process
    carol_b = clients(b.url, tokens[carol])
    # C holds one connection of someone who takes no part (a process joins the queue
    # at its first connection).
    clients(c.url, tokens[dave])
    proc_a, proc_b = holders(channel, ids[alice]), holders(channel, ids[carol])
    proc_c = holders(channel, ids[dave])
    assert len(proc_a | proc_b | proc_c) == 3, (proc_a, proc_b, proc_c)
    assert holders(channel, ids[bob]) == proc_a | proc_b
    idle = {route.process_channel(channel, pid) for pid in proc_c}
    assert eventually(lambda: idle <= process_channels(channel)), "C not listening"

    # Messages across processes, both ways, interleaved: none lost.
    acked: dict[str, set[str]] = {alice: set(), bob: set()}
    for i in range(MESSAGES_EACH_WAY):
        for sender, receiver, sock in ((alice, bob, alice_a), (bob, alice, bob_b)):
            text = f"{sender}->{receiver} {i}"
            ack = sock.call("send_message", {"receiver": receiver, "message": text})
            assert ack["ok"], ack
            acked[sender].add(text)

    def received(sock: PyClient, sender: str) -> set[str]:
        return {
            m["message"] for m in sock.named("receive_message") if m["sender"] == sender
        }

    for sock, sender in ((bob_b, alice), (bob_a, alice), (alice_a, bob)):
        assert eventually(lambda s=sock, f=sender: received(s, f) == acked[f]), (
            sender,
            acked[sender] - received(sock, sender),
        )
    # bob's own device on A got his messages too (his other connection than B's). That
    # copy crosses the queue on its own, so it can land after alice's copies and after
    # the acknowledgement: wait for it as for the others.
    assert eventually(lambda: received(bob_a, bob) == acked[bob]), acked[
        bob
    ] - received(bob_a, bob)

    # Contacts: alice's last connection closes, then she comes back on A: carol on B
    # is told both (user_left, user_joined are routed to carol's process).
    ack = carol_b.call("send_message", {"receiver": alice, "message": "hi"})
    assert ack["ok"], ack
    alice_a.close()
    assert carol_b.wait("user_left", lambda name: name == alice)
    alice_a = clients(a.url, tokens[alice])
    assert carol_b.wait("user_joined", lambda name: name == alice)

    # Every routed emit went only to the channels of the processes holding the
    # receiver (never C's), none took the shared channel, and C's got nothing at all.
    routed = tap.emits("receive_message")
    assert routed and all(ch != channel for ch, _ in routed), routed[:3]
    held = {ids[alice]: proc_a, ids[bob]: proc_a | proc_b, ids[carol]: proc_b}
    for event in ("receive_message", "user_left", "user_joined"):
        sent = tap.emits(event)
        assert sent, event
        for ch, data in sent:
            pids = held[int(data["room"].split(":")[1])]
            assert ch in {route.process_channel(channel, p) for p in pids}, (event, ch)
    assert not idle & tap.channels(), "the idle process got routed emits"

    # A kick and a block, made through the idle process C, close the user's
    # connections on both A and B.
    boss_token = tokens[boss]
    status, body = c.request(
        "POST", f"/api/admin/users/{bob}/kick", {"reason": "bye"}, token=boss_token
    )
    assert status == 200, body
    for sock in (bob_a, bob_b):
        assert sock.closed.wait(15), sock.log
        assert sock.named("kicked") == [{"reason": "bye"}]
    alice_b = clients(b.url, tokens[alice])
    status, body = c.request(
        "POST", f"/api/admin/users/{alice}/block", {"reason": "rude"}, token=boss_token
    )
    assert status == 200, body
    for sock in (alice_a, alice_b):
        assert sock.closed.wait(15), sock.log
        assert sock.named("account_blocked") == [{"reason": "rude"}]


def test_a_routed_and_a_stock_process_together_lose_nothing(tmp_path, clients):
    """A change of route rolling through a deployment: A routed, B stock. Emits to a
    user on B (not listening on a process channel) fall back to the shared channel."""
    channel = f"cyberscan-route-{secrets.token_hex(6)}"
    client = redis.Redis.from_url(REDIS_URL)
    client.set(f"cyberscan:presence:{channel}:route:epoch", "1")
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    keys = new_keys()  # one secret: tokens from A are valid on B
    servers: list[LiveServer] = []
    try:
        for route_name, log in (("process", "a.log"), ("shared", "b.log")):
            env = server_env(
                database,
                redis_url=REDIS_URL,
                channel=channel,
                keys=keys,
                SOCKETIO_ROUTE=route_name,
            )
            servers.append(start(env, tmp_path, log))
        a, b = servers
        tokens = {name: a.register(name) for name in ("alice", "bob")}
        alice_a = clients(a.url, tokens["alice"])
        bob_b = clients(b.url, tokens["bob"])
        sent = {"alice": set(), "bob": set()}
        for i in range(20):
            for sender, receiver, sock in (
                ("alice", "bob", alice_a),
                ("bob", "alice", bob_b),
            ):
                ack = sock.call(
                    "send_message", {"receiver": receiver, "message": str(i)}
                )
                assert ack["ok"], ack
                sent[sender].add(str(i))
        for sock, sender in ((bob_b, "alice"), (alice_a, "bob")):
            assert eventually(
                lambda s=sock, f=sender: (
                    {
                        m["message"]
                        for m in s.named("receive_message")
                        if m["sender"] == f
                    }
                    == sent[f]
                )
            ), (sender, sock.named("receive_message"))
        for server in servers:
            assert_clean_log(server)
    finally:
        stop_all(servers)
        client.delete(*client.keys(f"cyberscan:presence:{channel}:*") or ["-"])
        client.close()
