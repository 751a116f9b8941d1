"""Transport edges: work-arounds for python-engineio 4.15 and eventlet.wsgi.

- A WebSocket frame that is empty or does not start with an Engine.IO packet type
  makes python-engineio's receive loop raise outside its handler ("Invalid empty
  packet received", or int() of a NUL): the upgraded socket then gets an HTTP error
  written onto it, which the client reads as an invalid close frame. Such frames are
  turned into NOOPs here, which the loop ignores.
- A long-polling POST whose payload holds a packet a client never sends (OPEN `0`,
  NOOP `6`, an unknown type `9`, a `2probe` meant for the WebSocket upgrade) makes
  python-engineio disconnect the session from inside the POST and wait for the
  pending GET to drain its queue: the POST hangs. Such bodies get a 400 here before
  python-engineio sees them. Upstream: python-engineio's `Socket.handle_post_request`
  / `Server.disconnect` (see docs/reliability.md for the issue).
- python-engineio reads CONTENT_LENGTH bytes of a long-polling POST, so a chunked
  one (no Content-Length) was read as empty, and it refuses a body over its limit by
  disconnecting the session from inside the POST, which then hangs the same way.
  Bodies are read here, whole (`read_whole_body`); one over the limit gets a 413.
- eventlet's WebSocket unmasks every client frame one byte at a time in Python (a
  generator of one-byte `bytes` joined): 4-5% of the server's CPU under load.
  `CheckedWebSocket` gives eventlet's socket `unmask`, the same XOR done on two
  integers, byte for byte the same result.
- eventlet.wsgi answers a request line over 8 KB with an empty 414 and holds a client
  that never finishes its headers for as long as it likes. `server_options()` raises
  its line limit so the app can answer 414 in the contract's error shape, and bounds
  the time a client gets to send its request line and headers. gevent.pywsgi has the
  same gaps; `gevent_handler_class()` closes them. Both servers answer a request line
  they cannot parse themselves: in the contract's shape here (`raw_error_response`).
  eventlet also writes its own empty 400s for headers it refuses (a bad Content-Length,
  a header line or all headers too long); `RefusalWriter` rewrites those.
- eventlet's WebSocket writes its notes (a "socket shutdown error" when the peer has
  already gone) to `wsgi.errors`, which eventlet sets to stderr, without a line end:
  they ran together in the server's log; gevent writes its notes on a client's
  malformed request to stderr in its own format. `WSGI_ERRORS` makes each write one log
  record of `cyberscan.wsgi`, at DEBUG: a peer that went away, or a client's mistake
  (answered in the contract's shape), is routine.
- python-engineio answers a request for a session it does not hold (a client back
  after a restart, a proxy that is not sticky) with a plain-text 400 that echoes the
  sid, logged at ERROR the first time. `TransportGuard` answers it in the contract's
  shape, unlogged: a stale session is routine, the client connects again.
- python-engineio keeps a session open for as long as its peer answers pings, whether
  or not a Socket.IO connect (the token) ever comes: anyone could hold connections
  without an account until the server's cap was full. `close_unconnected` closes one
  that has no connection on the default namespace SOCKET_CONNECT_TIMEOUT seconds
  after it opened (a refused connect included).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from flask import request as flask_request
from werkzeug.exceptions import (
    ClientDisconnected,
    RequestEntityTooLarge,
    RequestURITooLarge,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from cyberscan.errors import ERROR_CODES, error_body
from cyberscan.pages import NO_STORE

SOCKETIO_PATH = "/socket.io"
# Engine.IO packet types a client sends: CLOSE, PING (upgrade probe), PONG, MESSAGE,
# UPGRADE, NOOP; `b` starts a base64 binary message.
WEBSOCKET_TYPES = frozenset("123456b")
# Over long-polling only CLOSE, PONG and MESSAGE (and base64 binary messages).
POLLING_TYPES = frozenset("134b")
NOOP = "6"
MAX_REQUEST_LINE = 8192
EVENTLET_LINE_LIMIT = 64 * 1024

StartResponse = Callable[..., Any]


def error_bytes(status: int, message: str) -> bytes:
    """The contract's error body (API.md §1), encoded, from below the Flask app."""
    return json.dumps(error_body(status, ERROR_CODES[status], message)).encode()


# The headers of every API answer (`api.no_store`), on the answers made below the app.
ERROR_HEADERS = (("Content-Type", "application/json"), *NO_STORE.items())


def error_response(
    start_response: StartResponse, status: int, message: str
) -> list[bytes]:
    """The contract's error response, as a WSGI app answers."""
    body = error_bytes(status, message)
    start_response(
        f"{status} {HTTP_STATUS_CODES[status]}",
        [*ERROR_HEADERS, ("Content-Length", str(len(body)))],
    )
    return [body]


UNKNOWN_SESSION = "That connection is unknown or has ended: open a new one."
UNSUPPORTED_CLIENT = (
    "Engine.IO protocol 4 over polling or websocket is spoken here "
    "(socket.io-client 3.x or 4.x; python-socketio 5.x)."
)

# What the HTTP server (eventlet.wsgi or gevent.pywsgi) answers on its own, before any
# app sees the request.
RAW_ERRORS = {
    400: "The request could not be read (or its headers came too slowly).",
    414: "The request line is too long.",
}


# Both servers refuse Content-Length beside chunked (eventlet writes this text itself;
# gevent's handler raises it, see gevent_handler_class).
LENGTH_AND_CHUNKED = "Content-Length and Transfer-Encoding are not allowed together."

# eventlet.wsgi's own answers to headers it refuses (a status line, no body or a
# plain one), by reason phrase: what the contract's message says instead.
EVENTLET_REFUSALS = {
    "Header Line Too Long": "A request header line is too long.",
    "Headers Too Large": "The request headers are too large.",
    "Bad Request": "The Content-Length header is not a valid length.",
}


def raw_error_response(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 error response carrying the contract's body; closes."""
    body = error_bytes(status, message)
    head = (
        f"HTTP/1.1 {status} {HTTP_STATUS_CODES[status]}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in ERROR_HEADERS)
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def read_whole_body(request: Request) -> bytes:
    """The request's body, read whole; RequestEntityTooLarge (413) when it is larger
    than `request.max_content_length`. Werkzeug raises that itself for a
    Content-Length over the limit, but reads a streamed (chunked) body only up to the
    limit and stops there silently: reading on past the limit is what raises it."""
    body = request.get_data(cache=True)
    if request.content_length is None:
        request.stream.read(1)  # b"" at the end of a body under the limit
    return body


def valid_polling_body(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if text.startswith("d="):  # JSONP: python-engineio unwraps it itself
        return True
    return (
        all(packet[:1] in POLLING_TYPES for packet in text.split("\x1e"))
        if text
        else True
    )


def request_line_too_long(environ: dict[str, Any]) -> bool:
    path = environ.get("RAW_PATH_INFO") or environ.get("PATH_INFO") or ""
    return len(path) + len(environ.get("QUERY_STRING") or "") > MAX_REQUEST_LINE


def refuse_long_request_line() -> None:
    """A before_request hook: a request line over MAX_REQUEST_LINE gets 414 from the
    app, so its answer carries the CORS headers a page on another origin needs to
    read it. (gevent answers one over 8 KB itself, before the headers are read.)"""
    if request_line_too_long(flask_request.environ):
        raise RequestURITooLarge(RAW_ERRORS[414])


class TransportGuard:
    """WSGI middleware: the request-line limit, unknown sessions and the long-polling
    body check."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], max_body: int, eio: Any
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.eio = eio

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(SOCKETIO_PATH):
            return self.app(environ, start_response)  # the app answers 414 itself
        if request_line_too_long(environ):
            return error_response(start_response, 414, RAW_ERRORS[414])
        query = environ.get("QUERY_STRING", "")
        post = environ.get("REQUEST_METHOD") == "POST"
        fields = parse_qs(query)
        sid = fields.get("sid", [None])[0] if "sid=" in query else None
        if (sid is not None or post) and sid not in self.eio.sockets:
            return error_response(start_response, 400, UNKNOWN_SESSION)
        if sid is None and (
            fields.get("EIO") != ["4"]
            or fields.get("transport", ["polling"])[0] not in self.eio.transports
        ):
            # python-engineio answers these in plain text and logs them at ERROR: a
            # client's mistake, so the contract's 400 and no log line.
            return error_response(start_response, 400, UNSUPPORTED_CLIENT)
        if post and "transport=polling" in query:
            request = Request(environ, populate_request=False)
            request.max_content_length = self.max_body
            try:
                body = read_whole_body(request)
            except RequestEntityTooLarge:
                return error_response(
                    start_response, 413, "The request body is too large."
                )
            except ClientDisconnected:
                return error_response(
                    start_response, 400, "The request body could not be read."
                )
            if not valid_polling_body(body):
                return error_response(
                    start_response,
                    400,
                    "That is not an Engine.IO payload a client sends.",
                )
            # python-engineio reads CONTENT_LENGTH bytes: a chunked body gets one.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def unmask(
    data: bytes, mask: Sequence[int], length: int | None = None, offset: int = 0
) -> bytes:
    """eventlet's `RFC6455WebSocket._apply_mask`, without a Python step per byte:
    byte i of `data[:length]` XOR `mask[(offset + i) % 4]`."""
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    shift = offset % 4
    key = bytes(mask[shift:]) + bytes(mask[:shift])
    stream = (key * (length // 4 + 1))[:length]
    value = int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")
    return value.to_bytes(length, "big")


class CheckedWebSocket:
    """A server-side WebSocket whose `wait()` turns invalid text frames into NOOPs
    (and, under eventlet, unmasks frames with `unmask`)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        if hasattr(ws, "_apply_mask") and hasattr(ws, "_recv_frame"):
            # eventlet's RFC6455WebSocket calls `self._apply_mask(...)` on every
            # received chunk; an instance attribute takes the static method's place.
            ws._apply_mask = unmask

    def wait(self) -> Any:
        data = self._ws.wait()
        if isinstance(data, str) and data[:1] not in WEBSOCKET_TYPES:
            return NOOP
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


def checked_websocket(factory: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap python-engineio's WebSocket class so its handler sees `CheckedWebSocket`s."""

    def build(handler: Callable[[Any], Any], server: Any, **kwargs: Any) -> Any:
        return factory(lambda ws: handler(CheckedWebSocket(ws)), server, **kwargs)

    return build


def close_unconnected(socketio: Any, timeout: float) -> None:
    """Close every Engine.IO session that has not connected to the default namespace
    `timeout` seconds after it opened (one sleeping task per session)."""
    server = socketio.server
    eio = server.eio
    opened = eio.handlers["connect"]

    def check(eio_sid: str) -> None:
        socketio.sleep(timeout)
        if (
            eio_sid in eio.sockets
            and server.manager.sid_from_eio_sid(eio_sid, "/") is None
        ):
            eio.disconnect(eio_sid)

    def on_open(eio_sid: str, environ: dict[str, Any]) -> Any:
        socketio.start_background_task(check, eio_sid)
        return opened(eio_sid, environ)

    eio.on("connect", on_open)


def init_app(app: Flask, socketio: Any) -> None:
    """Install the guards on a bound Flask-SocketIO server."""
    close_unconnected(socketio, float(app.config["SOCKET_CONNECT_TIMEOUT"]))
    eio = socketio.server.eio
    if eio._async.get("websocket") is not None:
        eio._async = {
            **eio._async,
            "websocket": checked_websocket(eio._async["websocket"]),
        }
    app.wsgi_app = TransportGuard(app.wsgi_app, int(eio.max_http_buffer_size), eio)


class RefusalWriter:
    """eventlet.wsgi's output file while it reads a request, before the app runs: the
    400 and 414 answers it writes itself (`EVENTLET_REFUSALS`) leave in the contract's
    shape; anything that already carries a Content-Type passes unchanged."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, data: bytes) -> Any:
        head, _, text = bytes(data).partition(b"\r\n\r\n")
        status_line, *headers = head.decode("latin-1").split("\r\n")
        _, status, reason = (status_line.split(" ", 2) + ["", ""])[:3]
        typed = any(h.lower().startswith("content-type:") for h in headers)
        if status in ("400", "414") and not typed:
            plain = text.decode("utf-8", "replace").strip().rstrip(".")
            message = (
                f"{plain}."
                if plain
                else EVENTLET_REFUSALS.get(reason, RAW_ERRORS[int(status)])
            )
            data = raw_error_response(int(status), message)
        return self.raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class LogLines(io.TextIOBase):
    """A `wsgi.errors` stream whose every non-blank line becomes one log record."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self.logger = logger
        self.level = level

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.logger.log(self.level, "%s", line.strip())
        return len(text)


WSGI_ERRORS = LogLines(logging.getLogger("cyberscan.wsgi"), logging.DEBUG)


def eventlet_server_options(
    http_protocol: type, header_timeout: float
) -> dict[str, Any]:
    """eventlet.wsgi options: a generous line limit (the app answers 414 itself) and a
    bound on the time a client takes to send its request line and headers.

    `http_protocol` is `eventlet.wsgi.HttpProtocol`, passed in by run.py so that this
    module never imports eventlet.
    """

    class HeaderTimeoutProtocol(http_protocol):  # type: ignore[misc, valid-type]
        """Headers must arrive within `header_timeout` seconds, like the request line;
        what the server refuses before the app runs (a request line it cannot parse,
        headers too long, a bad Content-Length) is answered in the contract's shape."""

        def handle_one_request(self) -> None:
            raw = self.wfile
            self.wfile = RefusalWriter(raw)
            try:
                super().handle_one_request()
            finally:
                self.wfile = raw

        def get_environ(self) -> dict[str, Any]:
            # The app is about to run: its answers go out as written.
            if isinstance(self.wfile, RefusalWriter):
                self.wfile = self.wfile.raw
            environ = super().get_environ()
            environ["wsgi.errors"] = WSGI_ERRORS
            if environ["wsgi.input"].chunked_input:
                # eventlet's input ends where the chunks end, but only gevent says so:
                # without this Werkzeug reads a chunked body as empty (it then applies
                # MAX_CONTENT_LENGTH while reading).
                environ["wsgi.input_terminated"] = True
            return environ

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            if code not in RAW_ERRORS:
                super().send_error(code, message, explain)
                return
            self.close_connection = 1
            self.wfile.write(raw_error_response(code, RAW_ERRORS[code]))

        def parse_request(self) -> bool:
            self.connection.settimeout(header_timeout)
            try:
                return super().parse_request()
            except TimeoutError:
                self.close_connection = 1
                return False
            finally:
                self.connection.settimeout(self.server.socket_timeout)

    return {
        "url_length_limit": EVENTLET_LINE_LIMIT,
        "keepalive": header_timeout,
        "protocol": HeaderTimeoutProtocol,
    }


def gevent_handler_class(handler: type, header_timeout: float) -> type:
    """A gevent.pywsgi handler bounded like eventlet's: the request line, and then the
    headers, must each arrive within `header_timeout` seconds. A client silent for
    that long before its request line is let go without an answer (also between
    keep-alive requests); one whose headers stall gets a 400 and is let go. The errors
    gevent answers itself (400, and 414 for a request line over 8 KB) carry the
    contract's body.

    `handler` is `gevent.pywsgi.WSGIHandler`, passed in by serve.py so that this module
    never imports gevent.
    """

    class HeaderTimeoutHandler(handler):  # type: ignore[misc, valid-type]
        def read_requestline(self) -> str:
            # A timeout here is a socket error: gevent closes the connection quietly.
            self.socket.settimeout(header_timeout)
            return super().read_requestline()

        refusal: str | None = None  # what a refused request's 400 says, when known

        def handle_one_request(self) -> Any:
            self.refusal = None
            result = super().handle_one_request()
            if isinstance(result, tuple) and int(result[0]) in RAW_ERRORS:
                status = int(result[0])
                message = self.refusal or RAW_ERRORS[status]
                return result[0], raw_error_response(status, message)
            return result

        def read_request(self, raw_requestline: str) -> Any:
            try:
                return super().read_request(raw_requestline)
            except TimeoutError as exc:
                # A ValueError is a client's error to gevent: a 400, no traceback.
                raise ValueError("the request headers did not arrive in time") from exc
            finally:
                # The app's own reads wait as long as they need.
                self.socket.settimeout(None)

        def MessageClass(self, *args: Any) -> Any:  # noqa: N802 - gevent's name
            # gevent drops Content-Length when chunked comes with it (RFC 9112 6.3
            # allows either); both framings at once is how a request is smuggled past
            # a proxy that reads the other one, so it is refused, as eventlet does.
            headers = super().MessageClass(*args)
            if "content-length" in headers and "transfer-encoding" in headers:
                self.refusal = LENGTH_AND_CHUNKED
                raise ValueError(LENGTH_AND_CHUNKED)
            return headers

    return HeaderTimeoutHandler
