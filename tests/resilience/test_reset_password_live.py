"""`flask reset-password` beside a running single process (no Redis): the account's
open sockets close, as the command says, though no message queue tells the server.

The command runs in a process of its own, so its close reached no socket of the
server's: the taken-over account kept sending and receiving on a socket it already had.
The server now checks the sessions its connections hold every SESSION_CHECK_SECONDS.
"""

from __future__ import annotations

import pytest
import socketio

from tests.live import server_env, start
from tests.resilience.conftest import unique

pytestmark = pytest.mark.e2e

CLOSED_WITHIN = 20  # seconds: a check runs every 5


def test_a_reset_from_the_command_line_closes_the_accounts_open_sockets(
    tmp_path, live_database, servers, clients
):
    server = start(server_env(live_database), tmp_path, "server.log")
    servers.append(server)
    hank, ivy = unique("hank"), unique("ivy")
    hank_token, ivy_token = server.register(hank), server.register(ivy)
    hank_socket = clients(server.url, hank_token)
    ivy_socket = clients(server.url, ivy_token)
    ack = hank_socket.call("send_message", {"receiver": ivy, "message": "still me"})
    assert ack["ok"], ack

    said = server.flask("reset-password", hank, password="a brand new pass")
    assert "every session it had is signed out" in said

    assert hank_socket.closed.wait(CLOSED_WITHIN), hank_socket.log
    # Only that account's: ivy's socket is open and answers.
    assert not ivy_socket.closed.is_set()
    ack = ivy_socket.call("send_message", {"receiver": hank, "message": "you there?"})
    assert ack["ok"], ack
    # The old token opens no new socket either.
    fresh = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        fresh.connect(server.url, auth={"token": hank_token}, transports=["websocket"])
    fresh.disconnect()
