"""Socket.IO event handlers on the default namespace (API.md §5): thin edges only.

Nothing here registers itself: `realtime.init_app` binds these to the app's server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app
from flask_socketio import ConnectionRefusedError, join_room
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cyberscan.errors import (
    CyberscanError,
    RateLimited,
    ValidationFailed,
    database_detail,
    log_unavailable,
)
from cyberscan.extensions import db
from cyberscan.live import connections, context, notify, presence, rooms
from cyberscan.realtime.auth import (
    authenticate,
    check_sender,
    current_socket_user,
    socket_identity,
    socket_user_id,
)
from cyberscan.schemas.message import (
    MarkReadSchema,
    TypingSchema,
    load_send_message,
)
from cyberscan.services import contacts, messaging, ratelimit

INTERNAL_MESSAGE = "Something went wrong on our side."
# An event name the client sent is named back in `error` cut to this many characters.
EVENT_NAME_ECHO = 64
_HANDLERS_OWN = object()
# Built once: a marshmallow schema per event was a measurable part of each event.
TYPING = TypingSchema()
MARK_READ = MarkReadSchema()


def ack(data: Any) -> dict[str, Any]:
    return {"ok": True, "data": data}


def failure(
    code: str, message: str, errors: Any = None, *, name: Any = _HANDLERS_OWN
) -> dict[str, Any]:
    """Emit `error` {error, message, event} to the caller and answer the error ack;
    `event` is the handler's event, or `name`, the one the client sent, which the
    catch-all and refusal handlers pass (null when the packet named none)."""
    event = context.current()
    if name is _HANDLERS_OWN:
        name = event.name
    elif isinstance(name, str):
        name = name[:EVENT_NAME_ECHO]
    else:
        name = None
    notify.error(event.sid, code, message, name)
    body = {"ok": False, "error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


def error_answer(error: CyberscanError, *, name: Any = _HANDLERS_OWN) -> dict[str, Any]:
    """`failure` for one of the project's errors: its code and message, with its
    details (`errors`, `retry_after`, ...) beside them."""
    details = dict(error.details)
    errors = details.pop("errors", None)
    body = failure(error.code, error.message, errors=errors, name=name)
    body.update(details)
    return body


def one_payload(args: tuple[Any, ...]) -> Any:
    """Events take exactly one argument, an object; schemas reject anything else."""
    if len(args) != 1:
        raise ValidationFailed(
            "The event takes exactly one object.",
            errors={"_schema": ["Expected exactly one argument."]},
        )
    return args[0]


def spend_event() -> None:
    """One of the connection's SOCKET_EVENT_LIMIT events; RateLimited when spent."""
    ratelimit.spend_event(context.current().session)


def over_budget(name: Any) -> dict[str, Any] | None:
    """The `rate_limited` answer to an event the client named `name` once the
    connection's events are spent; None while some are left."""
    try:
        spend_event()
    except RateLimited as error:
        return error_answer(error, name=name)
    return None


def announce_gone(app: Any) -> Callable[[Iterable[int]], None]:
    """`user_left` for users whose only connections were on a process that died."""

    def gone(user_ids: Iterable[int]) -> None:
        with app.app_context():
            contacts.went_offline(user_ids)

    return gone


def on_error(error: Exception) -> dict[str, Any]:
    """Any handler failure becomes an error ack plus an `error` event; never a traceback."""
    db.session.rollback()
    if isinstance(error, ValidationError):
        return failure(
            "validation_error", "The payload is not valid.", errors=error.messages
        )
    if isinstance(error, CyberscanError):
        return error_answer(error)
    if isinstance(error, IntegrityError):
        return failure("conflict", "That conflicts with existing data.")
    down = outage(error)
    if down:
        log_unavailable(current_app.logger, *down)
        return failure(
            "unavailable", "A service this needs is unavailable; nothing changed."
        )
    current_app.logger.error(
        "unhandled error in socket event %r",
        context.current().name,
        exc_info=error,
    )
    return failure("internal_error", INTERNAL_MESSAGE)


def outage(error: Exception) -> tuple[str, str] | None:
    """What is down when `error` is a dependency's (a pool timeout is the database
    being unavailable too), and a line about it that holds no SQL or text."""
    if isinstance(error, RedisError):
        return "Redis", str(error)
    if isinstance(error, DBAPIError | PoolTimeout):
        return "database", database_detail(error)
    return None


def on_connect(auth: Any = None) -> None:
    """A client connects with its access token; it gets `online_users`, its online
    contacts `user_joined`.

    One query (the token's user with its revocation check and its contacts with their
    names), the database connection handed back before anything else, then one
    presence call that registers the connection within the cap and answers which
    contacts are online."""
    registry, user = None, None
    closing = connections.manager(current_app)
    mark = closing.close_mark()
    try:
        user = authenticate(auth)
        known = user.contacts
        db.session.close()
        registry = presence.get_presence()
        here = {"sid": context.current().sid, "namespace": context.current().namespace}
        closed_by = [rooms.user(user.id), rooms.token(user.family)]
        for room in closed_by:
            join_room(room, **here)
        if closing.closed_since(mark, closed_by):
            raise closed_while_connecting()
        if user.is_admin:
            join_room(rooms.ADMINS, **here)
        first, online = check_connection_cap(registry, user.id, known)
        contacts.came_online(
            user, context.current().sid, first, {uid: known[uid] for uid in online}
        )
    except ConnectionRefusedError:
        raise
    except Exception as exc:  # noqa: BLE001  a failed connect must refuse, not half-open
        db.session.rollback()
        if registry is not None and user is not None:
            forget(registry, user.id)
        raise connect_failure(exc) from None


def closed_while_connecting() -> ConnectionRefusedError:
    """A logout, block or kick closed the token's rooms after the token was checked
    and before this connection joined them: refuse it as that close would have."""
    message = "The session was closed while the connection opened."
    return ConnectionRefusedError(
        "unauthorized", {"error": "unauthorized", "message": message}
    )


def forget(registry: presence.Presence, user_id: int) -> bool:
    """Drop this connection from presence; False (logged once) when Redis is down:
    its entry goes when Redis comes back, as the registry is rebuilt without it."""
    try:
        return registry.remove(user_id, context.current().sid)
    except RedisError as error:
        current_app.logger.warning("presence not updated on disconnect: %r", error)
        return False


def check_connection_cap(
    registry: presence.Presence, user_id: int, among: Iterable[int]
) -> tuple[bool, set[int]]:
    """Register this connection, at most MAX_CONNECTIONS_PER_USER per user (the
    newest is refused); answers whether it is the user's first and which of `among`
    are online."""
    limit = int(current_app.config["MAX_CONNECTIONS_PER_USER"])
    joined = registry.join(user_id, context.current().sid, limit, among)
    if joined is None:
        message = f"Too many open connections: at most {limit} per account."
        raise ConnectionRefusedError(
            "rate_limited", {"error": "rate_limited", "message": message}
        )
    return joined


def connect_failure(error: Exception) -> ConnectionRefusedError:
    """Refuse a connection that failed for a reason other than its token."""
    if outage(error):
        code, message = "unavailable", "The server cannot accept connections right now."
    else:
        current_app.logger.error("unhandled error at connect", exc_info=error)
        code, message = "internal_error", INTERNAL_MESSAGE
    return ConnectionRefusedError(code, {"error": code, "message": message})


def on_disconnect(reason: Any = None) -> None:
    """A connection closed; its online contacts get `user_left` when it was the last
    (one query: the user's name and current contacts)."""
    user_id = socket_user_id()
    if user_id is None:
        return
    if forget(presence.get_presence(), user_id):
        contacts.went_offline([user_id])


def on_send_message(*args: Any) -> dict[str, Any]:
    """The client sends a private message; the receiver's devices get `receive_message`."""
    spend_event()
    payload = load_send_message(one_payload(args))
    user = socket_identity()
    check_sender(payload.pop("sender"), user)
    message = messaging.send_message(user, **payload, origin_sid=context.current().sid)
    return ack(notify.sent_payload(message))


def on_refused(reason: str = "", name: Any = None, *args: Any) -> dict[str, Any]:
    """A packet the dispatcher must not see (realtime/packets.py) gets an error ack."""
    return over_budget(name) or failure(
        "bad_request", reason or "That event is not accepted.", name=name
    )


def on_unknown(event: str, *args: Any) -> dict[str, Any]:
    """An event name no handler knows gets an error ack instead of silence."""
    return over_budget(event) or failure(
        "not_found", "There is no such event.", name=event
    )


def on_typing(*args: Any) -> dict[str, Any]:
    """The client is typing; the receiver's devices get `user_typing`."""
    spend_event()
    payload = TYPING.load(one_payload(args))
    user = current_socket_user()
    check_sender(payload.pop("sender"), user)
    return ack(messaging.typing(user, **payload))


def on_mark_as_read(*args: Any) -> dict[str, Any]:
    """The receiver read messages; each sender gets `messages_read`."""
    spend_event()
    payload = MARK_READ.load(one_payload(args))
    user = current_socket_user()
    check_sender(payload.pop("sender"), user)
    return ack(messaging.mark_read(user, payload["message_ids"]))
