"""Socket identity: taken from the access token at connect, re-checked on every event.

Every event, `connect` included, reads the connection's saved session through
`context.current()`; `connect` reads its handshake through `context.handshake()`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_socketio import ConnectionRefusedError

from cyberscan.errors import AccountBlocked, CyberscanError, Forbidden, Unauthorized
from cyberscan.extensions import db
from cyberscan.live import context
from cyberscan.models import User
from cyberscan.services import auth, users

SOCKET_PATH = "/socket.io"


class SocketEventSessions(SecureCookieSessionInterface):
    """Flask opens the cookie session for every request context, and Flask-SocketIO
    pushes one per socket event; socket events use their own per-connection session,
    so give them an empty one instead of building a signer and parsing cookies."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.environ.get("PATH_INFO", "").startswith(SOCKET_PATH):
            return SecureCookieSession()
        return super().open_session(app, request)


SESSION_KEY = "user_id"
NAME_KEY = "username"
FAMILY_KEY = "token_family"
EPOCH_KEY = "token_epoch"


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _same_origin(request: Request) -> bool:
    """A cookie is sent by the browser whatever page opened the socket: check Origin."""
    origin = request.headers.get("Origin")
    if not origin:
        return True  # not a browser, or a same-origin navigation that sends none
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def token_from_handshake(auth_payload: Any) -> str | None:
    """The access token from `auth`, `?token=`, `Authorization: Bearer` or the JWT cookie.

    The first place that names a token wins; a bad token there is refused rather than
    falling back to another place. No field naming a user is ever read.
    """
    if isinstance(auth_payload, dict) and "token" in auth_payload:
        token = auth_payload["token"]
        return token if isinstance(token, str) else ""
    request = context.handshake()
    if "token" in request.args:
        return request.args.get("token", "")
    header = _bearer(request.headers.get("Authorization"))
    if header is not None:
        return header
    cookie_name = current_app.config.get(
        "JWT_ACCESS_COOKIE_NAME", "access_token_cookie"
    )
    cookie = request.cookies.get(cookie_name)
    # The admin dashboard holds an HttpOnly cookie; accept it only from our own pages
    # (cross-site WebSocket hijacking), on top of the cookie's SameSite=Strict.
    if cookie and _same_origin(request):
        return cookie
    return None


def refuse(error: CyberscanError) -> ConnectionRefusedError:
    """The refusal a client sees as `connect_error` with data `{error, message}`, and
    a blocked account's `reason`."""
    if error.code != "blocked":
        message = {"error": "unauthorized", "message": error.message}
        return ConnectionRefusedError("unauthorized", message)
    return ConnectionRefusedError("blocked", error.to_dict())


def authenticate(auth_payload: Any) -> auth.SocketIdentity:
    """The connecting user with their contacts (one query), or ConnectionRefusedError
    (unauthorized / blocked)."""
    token = token_from_handshake(auth_payload)
    try:
        if token is None:
            raise Unauthorized("A valid access token is required.")
        identity = auth.connect_identity(token)
    except (Unauthorized, AccountBlocked) as exc:
        db.session.rollback()
        raise refuse(exc) from None
    session = context.current().session
    session[SESSION_KEY] = identity.id
    session[NAME_KEY] = identity.username
    session[FAMILY_KEY] = identity.family
    session[EPOCH_KEY] = identity.epoch
    return identity


def held_session(saved: Any) -> auth.Held | None:
    """The session a connection holds, from its saved session (None before connect)."""
    user_id = saved.get(SESSION_KEY) if saved else None
    if user_id is None or not saved.get(FAMILY_KEY):
        return None
    return user_id, saved.get(EPOCH_KEY), saved[FAMILY_KEY]


def socket_token_family() -> str | None:
    """The login session of the token the connection was opened with."""
    return context.current().session.get(FAMILY_KEY)


def socket_user_id() -> int | None:
    """The id stored at connect (None before a successful connect)."""
    return context.current().session.get(SESSION_KEY)


def socket_identity() -> users.Known:
    """Who this connection is, as established at connect (no query; the writer
    re-checks blocked and muted senders in every batch)."""
    saved = context.current().session
    user_id = saved.get(SESSION_KEY)
    if user_id is None:
        raise Unauthorized("The connection is not authenticated.")
    return users.Known(user_id, saved[NAME_KEY])


def current_socket_user() -> User:
    """The connected user, reloaded for this event: a block holds even if a kick was missed."""
    user_id = socket_user_id()
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Unauthorized("The connection is not authenticated.")
    if user.is_blocked:
        raise AccountBlocked.because(user.blocked_reason)
    return user


def check_sender(claimed: Any, user: User | users.Known) -> None:
    """A `sender` field, when a client sends one, must name the token's user."""
    if claimed is None:
        return
    if not isinstance(claimed, str) or claimed.lower() != user.username.lower():
        raise Forbidden("The sender must be the authenticated user.")
