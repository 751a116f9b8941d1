"""`kill -9` of a live server mid-stream: every acknowledged message survives, once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.live import server_env, start
from tests.resilience.conftest import assert_each_once, history, unique

pytestmark = [
    pytest.mark.e2e,
    # A dependency or server stopped under a client leaves that client's socket to
    # the garbage collector, which may close it during a later test.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("collect_sockets_left_behind"),
]

ACKED_BEFORE_KILL = 10
STREAM = 400


def stream(client: Any, receiver: str, prefix: str, acked: dict[str, str]) -> None:
    """Send until the connection fails; record each acknowledged message."""
    for index in range(STREAM):
        client_id = f"{prefix}-{index}"
        try:
            ack = client.call(
                "send_message",
                {"receiver": receiver, "message": f"m{index}", "client_id": client_id},
                timeout=5,
            )
        except Exception:  # noqa: BLE001  the server died under the call
            return
        if not ack.get("ok"):
            return
        acked[client_id] = ack["data"]["id"]


def test_kill_9_mid_stream_keeps_every_acknowledged_message_once(
    tmp_path, live_database, servers, clients
):
    env = server_env(live_database)
    first = start(env, tmp_path, "before.log")
    servers.append(first)
    sender, receiver = unique("k9a"), unique("k9b")
    token = first.register(sender)
    first.sign_up(receiver)

    client = clients(first.url, token)
    acked: dict[str, str] = {}
    worker = threading.Thread(target=stream, args=(client, receiver, "k9", acked))
    worker.start()
    while len(acked) < ACKED_BEFORE_KILL and worker.is_alive():
        worker.join(0.01)
    first.process.kill()  # SIGKILL: no shutdown handler runs
    first.process.wait(10)
    worker.join(30)
    assert not worker.is_alive()
    assert ACKED_BEFORE_KILL <= len(acked) < STREAM, len(acked)
    before_kill = dict(acked)

    # The client retries everything it ever sent (acknowledged or not) on a new process.
    second = start(env, tmp_path, "after.log")
    servers.append(second)
    retry = clients(second.url, token)
    attempted = len(before_kill) + 1
    for index in range(attempted):
        client_id = f"k9-{index}"
        ack = retry.call(
            "send_message",
            {"receiver": receiver, "message": f"m{index}", "client_id": client_id},
        )
        assert ack["ok"], ack
        if client_id in before_kill:
            assert ack["data"]["id"] == before_kill[client_id], client_id
        acked[client_id] = ack["data"]["id"]

    stored = history(second, token, receiver)
    assert_each_once(acked, stored)
    assert len(stored) == attempted
