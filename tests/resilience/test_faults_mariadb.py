"""MariaDB stopped under a live stream: clean `unavailable` answers, then recovery.

The server runs on a mariadbd this test owns (own port, own data directory); the
machine's shared MariaDB is never touched.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.live import server_env, start
from tests.resilience.conftest import (
    assert_clean_log,
    assert_each_once,
    history,
    unique,
)
from tests.resilience.owned import OwnedMariaDB

pytestmark = [
    pytest.mark.e2e,
    # A dependency or server stopped under a client leaves that client's socket to
    # the garbage collector, which may close it during a later test.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("collect_sockets_left_behind"),
]

RECOVERY_SECONDS = 60


def send(client: Any, receiver: str, index: int) -> dict[str, Any]:
    return client.call(
        "send_message",
        {"receiver": receiver, "message": f"m{index}", "client_id": f"db-{index}"},
        timeout=15,
    )


def test_mariadb_down_answers_unavailable_then_recovers(tmp_path, servers, clients):
    mariadb = OwnedMariaDB(tmp_path).install().start()
    try:
        url = mariadb.create_database("cyberscan_fault_test")
        server = start(server_env(url), tmp_path, "server.log")
        servers.append(server)
        sender, receiver = unique("dba"), unique("dbb")
        token = server.register(sender)
        server.sign_up(receiver)
        client = clients(server.url, token)

        acked: dict[str, str] = {}
        for index in range(10):
            ack = send(client, receiver, index)
            assert ack["ok"], ack
            acked[f"db-{index}"] = ack["data"]["id"]

        mariadb.stop(kill=True)
        outage = []
        for index in range(10, 20):
            ack = send(client, receiver, index)
            outage.append(ack)
            if ack["ok"]:  # committed before the server noticed: it must be stored
                acked[f"db-{index}"] = ack["data"]["id"]
        refused = [ack for ack in outage if not ack["ok"]]
        assert refused, outage
        assert {ack["error"] for ack in refused} == {"unavailable"}, refused
        status, body = server.request("GET", "/api/chat/conversations", token=token)
        assert (status, body["error"]) == (503, "unavailable"), body
        status, body = server.request(
            "POST", f"/api/chat/messages/{receiver}", {"message": "x"}, token=token
        )
        assert (status, body["error"]) == (503, "unavailable"), body
        assert client.sio.connected  # the socket outlives the outage

        mariadb.start()
        deadline = time.monotonic() + RECOVERY_SECONDS
        index = 20
        while True:
            ack = send(client, receiver, index)
            if ack["ok"]:
                acked[f"db-{index}"] = ack["data"]["id"]
                break
            assert ack["error"] == "unavailable", ack
            assert time.monotonic() < deadline, "no recovery after MariaDB returned"
            time.sleep(0.5)
            index += 1

        stored = history(server, token, receiver)
        assert_each_once(acked, stored)
        # A refused send had no effect: only acknowledged messages exist.
        assert {item["client_id"] for item in stored} == set(acked)
        assert_clean_log(server)
        # An outage is logged once (then a counting line per 30 s), on the socket as
        # on REST, naming the driver's error and its code: not a line per refusal.
        with server.log.open("rb") as log:
            errors = [
                line
                for line in log.read().decode(errors="replace").splitlines()
                if " ERROR " in f" {line} "
            ]
        assert 1 <= len(errors) <= 3, errors
        assert all("database unavailable: " in line for line in errors), errors
        assert any(re.search(r"Error \(\d{4}", line) for line in errors), errors
    finally:
        mariadb.stop(kill=False)
