"""The Socket.IO server class and the event being handled: who sent it, its name.

Flask-SocketIO pushes a full request context for every socket event: a werkzeug
Request built from the handshake's environ, a URL adapter and route match, a session
opened through the session interface, an app context, and their teardown and signals.
On the messaging hot path that was the largest single cost of an event (~16% of the
server's CPU under load), and an event handler needs none of it: only the app (config,
the database session), the connection's sid and the identity stored at connect.

`SocketServer` keeps Flask-SocketIO's request context for acknowledgement callbacks
only, and dispatches every event, `connect` included, inside a bare app context, with
the event exposed through `current()` instead of `flask.request` / `flask.session`
(`connect` reads its handshake's query string, headers and cookies through
`handshake()`, a request object built on the environ without the URL matching,
session opening and teardown of a request context):

- a fresh app context per event, so Flask-SQLAlchemy's scoped session is this
  event's alone and is removed by the app context's teardown, as before;
- the same error path: an exception goes to the handler registered with
  `on_error_default` (its answer is the acknowledgement), `ConnectionRefusedError`
  propagates to python-socketio;
- the connection's session is the dict Flask-SocketIO keeps in the environ
  (`saved_session`), filled at connect.

This module imports nothing of the project, so `extensions`, `realtime` and `live`
can all import it (the realtime package imports `extensions`, so it cannot live there). Upstream's per-event hook is the private `_handle_event`
(Flask-SocketIO 5.x; its maintainer points at overriding the dispatch for per-event
behaviour, issue #825); tests/test_socket_dispatch.py fails if its shape changes.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import flask
from flask.sessions import SessionMixin
from flask_socketio import SocketIO
from socketio.exceptions import ConnectionRefusedError

# Events that keep Flask-SocketIO's full request context: `None` is an emit's
# acknowledgement callback. `connect` reads its handshake through `handshake()`.
FULL_CONTEXT = frozenset({None})


class ConnectionSession(dict, SessionMixin):  # type: ignore[type-arg]
    """A connection's session, kept in its environ (`saved_session`) from `connect`
    on, as Flask-SocketIO keeps its own (socket requests carry no cookie session)."""


class SocketEvent:
    """One socket event being handled: its connection, name, arguments and the
    connection's session (the identity `connect` stored)."""

    __slots__ = ("sid", "namespace", "name", "args", "session")

    def __init__(
        self,
        sid: str,
        namespace: str,
        name: str | None,
        args: tuple[Any, ...],
        session: MutableMapping[str, Any],
    ) -> None:
        self.sid = sid
        self.namespace = namespace
        self.name = name
        self.args = args
        self.session = session


_current: contextvars.ContextVar[SocketEvent | None] = contextvars.ContextVar(
    "cyberscan_socket_event", default=None
)


def current() -> SocketEvent:
    """The socket event this code runs for; RuntimeError outside one."""
    event = _current.get()
    if event is None:
        raise RuntimeError("Not inside a socket event.")
    return event


@contextlib.contextmanager
def running(event: SocketEvent) -> Iterator[SocketEvent]:
    """Run code as this event (`current()` answers it): for tests and tools that
    call an event's functions outside a socket server."""
    token = _current.set(event)
    try:
        yield event
    finally:
        _current.reset(token)


def handshake() -> flask.Request:
    """The request that opened the connection being connected (inside `connect`
    only): its query string, headers and cookies, parsed when first read."""
    event = current()
    environ = event.args[0] if event.name == "connect" and event.args else None
    if not isinstance(environ, dict):
        raise RuntimeError("Not inside a connect.")
    return flask.current_app.request_class(environ, populate_request=False)


def current_sid() -> str | None:
    """The connection whose event is being handled here, or None (an HTTP request, a
    background task)."""
    event = _current.get()
    return event.sid if event is not None else None


class SocketServer(SocketIO):
    """Flask-SocketIO with a light context for every event but `connect`."""

    def _handle_event(
        self,
        handler: Callable[..., Any],
        message: str | None,
        namespace: str,
        sid: str,
        *args: Any,
    ) -> Any:
        if message in FULL_CONTEXT:
            return super()._handle_event(
                self._with_event(handler, message, namespace, sid, args),
                message,
                namespace,
                sid,
                *args,
            )
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:
            return "", 400  # no record of this client: as Flask-SocketIO answers
        session = environ.get("saved_session")
        if session is None and message == "connect":
            session = environ["saved_session"] = ConnectionSession()
        token = _current.set(
            SocketEvent(
                sid, namespace, message, args, {} if session is None else session
            )
        )
        context = environ["flask.app"].app_context()
        context.push()
        try:
            if message == "connect":  # args: the handshake's environ, `auth`
                return handler(args[1] if len(args) > 1 else None)
            return handler(*args)
        except ConnectionRefusedError:
            raise
        except Exception as error:
            on_error = self.exception_handlers.get(
                namespace, self.default_exception_handler
            )
            if on_error is None:
                raise
            return on_error(error)
        finally:
            context.pop()
            _current.reset(token)

    @staticmethod
    def _with_event(
        handler: Callable[..., Any],
        message: str | None,
        namespace: str,
        sid: str,
        args: tuple[Any, ...],
    ) -> Callable[..., Any]:
        """`handler`, run with `current()` set; inside Flask-SocketIO's request
        context, whose `flask.session` is the connection's saved session."""

        def run(*handler_args: Any) -> Any:
            session = flask.session._get_current_object()  # type: ignore[attr-defined]
            token = _current.set(SocketEvent(sid, namespace, message, args, session))
            try:
                return handler(*handler_args)
            finally:
                _current.reset(token)

        return run
