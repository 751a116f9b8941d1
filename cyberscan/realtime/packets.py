"""Inbound Socket.IO packets, checked before python-socketio dispatches them.

python-socketio hands a client's event name straight to its handler table: an event
named `connect` or `disconnect` re-runs those handlers, an object or list name raises
inside the dispatcher, a binary packet makes the connection wait for attachments that
never come, and broken or deeply nested JSON raises with a traceback and no
acknowledgement. `CheckedPacket` (the server's packet class) rewrites every such
packet into an event named `REFUSED`, keeping its acknowledgement id, so the refusal
handler answers it with a `bad_request` error ack like any other failure.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

REFUSED = "cyberscan.refused"
# Dispatched by python-socketio itself, or reserved for send() (`message`, `json`),
# or the catch-all handler's name.
RESERVED = frozenset({"connect", "disconnect", "connect_error", "message", "json", "*"})


def leading_id(encoded: str) -> int | None:
    """The acknowledgement id of a packet that did not decode, when it has one."""
    rest = encoded[1:]
    dash = rest.find("-")
    if 0 < dash <= 10 and rest[:dash].isdigit():
        rest = rest[dash + 1 :]
    if rest.startswith("/"):
        comma = rest.find(",")
        rest = rest[comma + 1 :] if comma != -1 else ""
    digits = ""
    for char in rest[:19]:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


class CheckedPacket(packet.Packet):
    """A Socket.IO packet whose decoding refuses what the dispatcher cannot take.

    Binary packets are refused inbound and never sent: the server's payloads are JSON.
    Without `uses_binary_events`, building an outgoing packet (every emit, every ack)
    skips python-socketio's recursive walk of the payload looking for bytes; a payload
    holding bytes would fail to encode rather than go out as a binary packet.
    """

    uses_binary_events = False

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and not encoded_packet:
            # python-socketio skips decoding an empty packet and dispatches no data.
            self._refuse(None, "The packet is empty.")

    def decode(self, encoded_packet: Any) -> int:
        if not isinstance(encoded_packet, str) or not encoded_packet:
            return self._refuse(None, "Binary packets are not accepted.")
        try:
            attachments = super().decode(encoded_packet)
        except RecursionError:
            return self._refuse(
                leading_id(encoded_packet), "The JSON is nested too deeply."
            )
        except (ValueError, TypeError, IndexError, KeyError):
            return self._refuse(leading_id(encoded_packet), "The packet is malformed.")
        if self.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK):
            return self._refuse(self.id, "Binary packets are not accepted.")
        if self.packet_type == packet.CONNECT_ERROR or not 0 <= self.packet_type <= 6:
            return self._refuse(self.id, "The packet type is not accepted.")
        if self.packet_type == packet.EVENT:
            data = self.data
            if not isinstance(data, list) or not data:
                return self._refuse(
                    self.id, "An event is a list: its name, then its arguments."
                )
            name = data[0]
            if not isinstance(name, str) or name in RESERVED or name == REFUSED:
                return self._refuse(
                    self.id,
                    "That event name is not accepted.",
                    name if isinstance(name, str) else None,
                )
        return attachments

    def _refuse(self, ack_id: int | None, reason: str, name: str | None = None) -> int:
        """Rewrite the packet into a `REFUSED` event: the reason, and the event name
        the client sent when it sent one (the `error` event names it back)."""
        self.packet_type = packet.EVENT
        self.namespace = None
        self.id = ack_id
        self.data = [REFUSED, reason, name]
        return 0
