"""Private messages: socket payloads in, the message object out (API.md §4, §5)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import fields, validate, validates

from cyberscan.schemas.common import (
    CLIENT_ID_MAX,
    CONTROL,
    MESSAGE_ID_FORMAT,
    SURROGATE,
    ClientIdSchema,
    MessageId,
    PageQuerySchema,
    StrictBoolean,
    StrictSchema,
    Timestamp,
    TrimmedString,
    check_configured_length,
    non_blank,
    visible,
)

USERNAME_MAX = 32
MARK_READ_MAX = 500
# A ceiling over any configured MAX_MESSAGE_LENGTH; the error names the lower of the two.
RAW_MESSAGE_MAX = 100_000


class SenderField(StrictSchema):
    """Clients of the original backend send `sender`; it is checked, never trusted."""

    sender = fields.String(
        load_default=None, validate=validate.Length(max=USERNAME_MAX)
    )


class MessagePostSchema(ClientIdSchema):
    """REST sending: the receiver is in the path."""

    message = TrimmedString(required=True, validate=non_blank)

    @validates("message")
    def check_length(self, value: str, **kwargs: object) -> None:
        check_configured_length(value, "MAX_MESSAGE_LENGTH", ceiling=RAW_MESSAGE_MAX)


class MessageCreateSchema(SenderField, MessagePostSchema):
    """`send_message`: the REST body plus the receiver."""

    receiver = fields.String(
        required=True, validate=validate.Length(min=1, max=USERNAME_MAX)
    )


MESSAGE_CREATE = MessageCreateSchema()
SEND_FIELDS = frozenset(MESSAGE_CREATE.fields)


def load_send_message(data: Any) -> dict[str, Any]:
    """`send_message`'s payload, loaded as MessageCreateSchema would load it.

    The common well-formed payload is checked inline (the hot path runs this for
    every message); anything else goes through the schema, which decides and words
    the errors.
    """
    if type(data) is dict and data.keys() <= SEND_FIELDS:
        receiver, message = data.get("receiver"), data.get("message")
        client_id, sender = data.get("client_id"), data.get("sender")
        if (
            type(receiver) is str
            and 0 < len(receiver) <= USERNAME_MAX
            and type(message) is str
            and (
                client_id is None
                or (type(client_id) is str and 0 < len(client_id) <= CLIENT_ID_MAX)
            )
            and (
                sender is None or (type(sender) is str and len(sender) <= USERNAME_MAX)
            )
        ):
            text = message.strip()
            limit = int(current_app.config["MAX_MESSAGE_LENGTH"])
            if (
                0 < len(text) <= min(limit, RAW_MESSAGE_MAX)
                and not any(
                    value is not None and SURROGATE.search(value)
                    for value in (receiver, message, client_id, sender)
                )
                and not CONTROL.search(message)
                and visible(text)
            ):
                return {
                    "receiver": receiver,
                    "message": text,
                    "client_id": client_id,
                    "sender": sender,
                }
    return MESSAGE_CREATE.load(data)


class TypingSchema(SenderField):
    receiver = fields.String(
        required=True, validate=validate.Length(min=1, max=USERNAME_MAX)
    )
    is_typing = StrictBoolean(required=True)


def message_ids_field() -> fields.List:
    """`message_ids`: 1 to MARK_READ_MAX message ids."""
    return fields.List(
        MessageId(), required=True, validate=validate.Length(min=1, max=MARK_READ_MAX)
    )


class MarkReadSchema(SenderField):
    message_ids = message_ids_field()


class MessageIdsSchema(StrictSchema):
    """`{message_ids}`: the ids a client shows (POST /api/chat/gone), and the answer."""

    message_ids = message_ids_field()


class MessageSchema(StrictSchema):
    """The message object, REST and events alike."""

    id = fields.String()
    sender = fields.Function(lambda m: m.sender.username)
    receiver = fields.Function(lambda m: m.receiver.username)
    message = fields.String(attribute="content")
    timestamp = Timestamp(attribute="created_at")
    is_bullying = fields.Boolean()
    bullying_probability = fields.Float()
    is_read = fields.Boolean()
    client_id = fields.String(allow_none=True)
    status = fields.String()


class MessageSentSchema(StrictSchema):
    """`message_sent`, and the `send_message` acknowledgement's data."""

    id = fields.String()
    client_id = fields.String(allow_none=True)
    status = fields.String()
    timestamp = Timestamp(attribute="created_at")
    is_bullying = fields.Boolean()
    bullying_probability = fields.Float()
    is_read = fields.Boolean()


class HistoryQuerySchema(PageQuerySchema):
    # A malformed id is a 422; a well-formed one of no message here, a 404.
    after = MessageId(load_default=None, validate=MESSAGE_ID_FORMAT)


class ConversationSchema(StrictSchema):
    username = fields.String()
    last_message = fields.Nested(MessageSchema)
    unread_count = fields.Integer()
    online = fields.Boolean()


class OnlineUserSchema(StrictSchema):
    username = fields.String()
    online = fields.Boolean()


class BullyingReportSchema(StrictSchema):
    username = fields.String()
    bullying_count = fields.Integer()
    max_bullying_count = fields.Integer()
    remaining = fields.Integer()
    is_blocked = fields.Boolean()
    muted_until = Timestamp(allow_none=True)
    flagged_messages = fields.Integer()
    flagged_comments = fields.Integer()
    flagged_posts = fields.Integer()


class CanChatSchema(StrictSchema):
    can_chat = fields.Boolean()
    reason = fields.String(allow_none=True)
    muted_until = Timestamp(allow_none=True)
