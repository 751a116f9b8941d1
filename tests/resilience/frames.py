"""Raw Socket.IO packets fed to the in-process server, as a hostile client would send."""

from __future__ import annotations

import json
from typing import Any

DEPTH = 5000


def deep(depth: int = DEPTH) -> str:
    """JSON nested `depth` levels deep (a list of lists)."""
    return "[" * depth + "]" * depth


def send_frame(sio: Any, raw: str) -> Any:
    """Feed one raw packet as this test client; answers the acknowledgement's data.

    An exception raised by the server's packet handling propagates to the test.
    """
    sio.acks = None
    sio.socketio.server._handle_eio_message(sio.eio_sid, raw)
    ack, sio.acks = sio.acks, None
    if ack is None:
        return None
    return ack["args"][0] if len(ack["args"]) == 1 else ack["args"]


def event_frame(ack_id: int | None, *data: Any) -> str:
    return "2" + ("" if ack_id is None else str(ack_id)) + json.dumps(list(data))


# Socket.IO packets (over the wire each is an Engine.IO message: a "4" in front) that
# must not reach internals, most with ack id 7.
RESERVED_AND_MALFORMED = {
    "connect": '27["connect"]',
    "connect with auth": '27["connect",{"token":"x"}]',
    "disconnect": '27["disconnect"]',
    "disconnect with reason": '27["disconnect","transport close"]',
    "object name": '27[{"send_message":1},{}]',
    "list name": '27[["send_message"],{}]',
    "number name": "27[7,{}]",
    "null name": "27[null,{}]",
    "true name": "27[true,{}]",
    "empty list": "27[]",
    "string data": '27"send_message"',
    "object data": '27{"a":1}',
    "no data": "27",
    "broken json": '27["send_message",{',
    "deep json": '27["send_message",' + deep() + "]",
    "message name": '27["message","hi"]',
    "json name": '27["json",{}]',
    "catch-all name": '27["*",{}]',
    "binary event": '51-7["send_message",{"_placeholder":true,"num":0}]',
    "binary ack": "6",
    "binary ack with id": '61-7[{"_placeholder":true,"num":0}]',
}
