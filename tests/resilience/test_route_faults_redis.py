"""Redis stopped and restarted under two live processes on the routed queue
(SOCKETIO_ROUTE=process, cyberscan/live/route.py).

The outage scenario of test_faults_redis.py, unchanged, on routed processes: sends
refused with `unavailable`, a block made during the outage closes the connection on
the other process once Redis is back, presence rebuilt. Then what only routing has:
after a restart, once the warm-up is over, emits to one user follow the rebuilt
presence and every message reaches the other process.
"""

from __future__ import annotations

import functools
import time

import pytest
import redis

from tests.live import server_env, start
from tests.resilience import test_faults_redis
from tests.resilience.conftest import assert_clean_log, unique
from tests.resilience.owned import OwnedRedis

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("collect_sockets_left_behind"),
]

RECOVERY_SECONDS = 45


def test_redis_outage_on_routed_processes(
    tmp_path, live_database, servers, clients, monkeypatch
):
    monkeypatch.setattr(
        test_faults_redis,
        "server_env",
        functools.partial(server_env, SOCKETIO_ROUTE="process"),
    )
    test_faults_redis.test_redis_outage_refuses_cleanly_and_recovers(
        tmp_path, live_database, servers, clients
    )


def test_routed_messages_follow_presence_rebuilt_after_a_restart(
    tmp_path, live_database, servers, clients
):
    owned = OwnedRedis(tmp_path).start()
    try:
        channel = unique("cyberscan-route-")
        env = server_env(
            live_database,
            redis_url=owned.url,
            channel=channel,
            SOCKETIO_ROUTE="process",
            # Rebuilt within 2 s, warm for 7 s: the restart's waits scale with it.
            PRESENCE_HEARTBEAT_SECONDS="2",
        )
        a = start(env, tmp_path, "a.log")
        servers.append(a)
        b = start(env, tmp_path, "b.log")
        servers.append(b)
        alice, bob = unique("al"), unique("bo")
        alice_a = clients(a.url, a.register(alice))
        bob_id = a.sign_up(bob)["id"]
        bob_b = clients(b.url, a.login(bob))

        owned.stop(kill=True)
        owned.start()
        # Rebuilt within a heartbeat; the first routed emit after the restart
        # starts the warm-up (shared channel, a heartbeat and 5 s), and routing
        # resumes when it ends.
        store = redis.Redis.from_url(owned.url)
        prefix = f"cyberscan:presence:{channel}"
        assert test_faults_redis.eventually(
            lambda: store.exists(f"{prefix}:user:{bob_id}")
        ), "presence not rebuilt"
        first = test_faults_redis.eventually(
            lambda: alice_a.call("send_message", {"receiver": bob, "message": "0"})[
                "ok"
            ]
        )
        assert first
        assert test_faults_redis.eventually(
            lambda: not store.exists(f"{prefix}:route:warm")
        ), "the warm-up did not end"
        sent = []
        for i in range(1, 21):
            ack = alice_a.call("send_message", {"receiver": bob, "message": str(i)})
            assert ack["ok"], ack
            sent.append(str(i))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            got = {m["message"] for m in bob_b.named("receive_message")}
            if set(sent) <= got:
                break
            time.sleep(0.2)
        assert set(sent) <= got, sorted(set(sent) - got)
        store.close()
        for server in (a, b):
            assert_clean_log(server)
    finally:
        owned.stop(kill=False)
