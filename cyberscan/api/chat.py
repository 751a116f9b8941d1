"""Chat history, conversations, presence and the user's standing (API.md §4)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from cyberscan.errors import ValidationFailed
from cyberscan.models import Message
from cyberscan.schemas.common import message_id_key, page_of
from cyberscan.schemas.message import (
    BullyingReportSchema,
    CanChatSchema,
    ConversationSchema,
    HistoryQuerySchema,
    MessageIdsSchema,
    MessagePostSchema,
    MessageSchema,
    OnlineUserSchema,
)
from cyberscan.schemas.people import MessageIdSchema, WholeOrPageQuerySchema
from cyberscan.services import contacts, messaging, moderation
from cyberscan.services.pagination import Page

bp = Blueprint(
    "chat", __name__, url_prefix="/api/chat", description="Chat history and presence"
)


@bp.get("/messages/<string:username>")
@jwt_required()
@bp.arguments(HistoryQuerySchema, location="query")
@bp.response(200, page_of(MessageSchema))
def list_messages(query: dict[str, Any], username: str) -> Page[Any]:
    """The conversation with `username`, a page at a time; `?after=<id>` catches up."""
    return messaging.history(current_user, username, **query)


@bp.post("/messages/<string:username>")
@jwt_required()
@bp.arguments(MessagePostSchema, location="json")
@bp.response(201, MessageSchema)
def send_message(payload: dict[str, Any], username: str) -> Message:
    """Send a message over REST: the same pipeline, rules and events as the socket."""
    try:
        return messaging.send_message(current_user, username, **payload)
    except ValidationFailed as error:
        # The socket's payload names the `receiver`; here it is the path's username.
        errors = error.details.get("errors") or {}
        if "receiver" in errors:
            error.details["errors"] = {"path": {"username": errors["receiver"]}}
        raise


@bp.get("/conversations")
@jwt_required()
@bp.response(200, ConversationSchema(many=True))
def list_conversations() -> list[dict[str, Any]]:
    """The caller's conversations, most recent first, with unread counts and presence."""
    return messaging.conversations(current_user)


@bp.get("/online-users")
@jwt_required()
@bp.arguments(WholeOrPageQuerySchema, location="query")
@bp.response(200, OnlineUserSchema(many=True))
def list_online_users(query: dict[str, Any]) -> Any:
    """The caller's contacts and whether each is online; `?limit=` pages them."""
    found = contacts.online_users(current_user, **query)
    if isinstance(found, Page):
        return jsonify(page_of(OnlineUserSchema)().dump(found))
    return found


@bp.delete("/messages/<string:message_id>")
@jwt_required()
@bp.response(200, MessageIdSchema)
def unsend_message(message_id: str) -> Message:
    """The sender unsends a message: gone for both; both get `message_deleted`."""
    return messaging.unsend(current_user, message_id_key(message_id))


@bp.post("/gone")
@jwt_required()
@bp.arguments(MessageIdsSchema, location="json")
@bp.response(200, MessageIdsSchema)
def gone_messages(payload: dict[str, Any]) -> dict[str, list[str]]:
    """Which of the messages a client shows are gone for the caller (unsent, removed
    by an admin, or never theirs): a client back from offline missed `message_deleted`."""
    return {"message_ids": messaging.gone(current_user, payload["message_ids"])}


@bp.get("/bullying-report")
@jwt_required()
@bp.response(200, BullyingReportSchema)
def bullying_report() -> dict[str, Any]:
    """The caller's strikes, the limit, and how many items were flagged."""
    return moderation.bullying_report(current_user)


@bp.get("/can-chat")
@jwt_required()
@bp.response(200, CanChatSchema)
def can_chat() -> dict[str, Any]:
    """Whether the caller may send messages now; `reason` says why not."""
    return moderation.can_chat(current_user)
