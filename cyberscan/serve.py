"""`python run.py`: bind the port (refusing one in use), say one line, serve, stop.

Flask-SocketIO's `socketio.run()` lets eventlet bind with SO_REUSEPORT, so a second
server on the same port starts silently and the kernel splits the chat between two
processes with separate presence. Binding here, without it, makes that a clear error.
A database, Redis or model the server cannot use at start is one line too
(`start_failures`), and SIGTERM stops the server as Ctrl+C does: it stops listening,
takes its connections out of presence at once and announces `user_left` for the
people who had no other connection (`leave_presence`).
"""

from __future__ import annotations

import errno
import logging
import resource
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import greenlet
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from config import database_kind, database_unusable
from cyberscan.detector.errors import ArtifactError
from cyberscan.extensions import socketio
from cyberscan.live import presence
from cyberscan.realtime import sessions
from cyberscan.realtime.events import announce_gone
from cyberscan.realtime.transport import (
    WSGI_ERRORS,
    eventlet_server_options,
    gevent_handler_class,
)

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024
ASYNC_NOTES = {
    "eventlet": "eventlet (deprecated upstream; SOCKETIO_ASYNC_MODE=gevent also works, "
    "see docs/scaling.md)",
    "gevent": "gevent",
    "threading": "threading (development only)",
}


LOG_FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"
# python-socketio and python-engineio give their loggers a stderr handler of their own
# when the level is unset; set, they log through the one handler below like the rest.
QUIET_LOGGERS = ("socketio.server", "engineio.server")


def configure_logging(level: str) -> None:
    """One stderr handler on the root logger, before the app exists: Flask then adds
    no handler of its own to the app's logger, and migrations/env.py leaves logging
    as it is, so every record is written once, one line each (tracebacks below it)."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


class PortUnavailable(SystemExit):
    """The server cannot listen where HOST and PORT say; the message is one line."""


class StartFailed(SystemExit):
    """The database, Redis or the model cannot be used at start; one line."""


@contextmanager
def start_failures(config: Any) -> Iterator[None]:
    """Around building the app and migrating: what an operator must fix, in one line.

    Only the failures of a dependency itself: a migration or code bug (any other
    error) keeps its traceback.
    """
    try:
        yield
    except ArtifactError as exc:
        raise StartFailed(str(exc)) from None
    except OperationalError as exc:
        raise StartFailed(database_unusable(config.DATABASE_URL, exc.orig)) from None
    except TimeoutError as exc:  # migrations/env.py: another process's migration
        raise StartFailed(str(exc)) from None
    except RedisError as exc:
        why = str(exc).rstrip(".")
        raise StartFailed(
            f"Cannot use Redis (REDIS_URL): {why}; start it, or fix REDIS_URL"
        ) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port without SO_REUSEPORT; PortUnavailable if taken."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as exc:
        raise PortUnavailable(
            f"Cannot listen on {host}:{port}: unknown host ({exc.strerror}); set HOST."
        ) from exc
    # SO_REUSEADDR only lets a restart reuse a port in TIME_WAIT; on Linux two
    # listeners still cannot share it (that takes SO_REUSEPORT, which is never set).
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(port_message(host, port, exc)) from exc
    return sock


def port_message(host: str, port: int, exc: OSError) -> str:
    """The one line that says why host:port is unusable and how to pick another."""
    if exc.errno == errno.EADDRNOTAVAIL:
        # No port would do: the address is not one of this machine's.
        return (
            f"Cannot listen on {host}:{port}: {host} is not an address of this "
            f"machine ({exc.strerror}); set HOST to one of its addresses, e.g. "
            "HOST=127.0.0.1, or HOST=0.0.0.0 for all of them"
        )
    if exc.errno == errno.EADDRINUSE:
        why = "is already in use (by another CyberScan server or another program)"
    elif exc.errno == errno.EACCES:
        why = "needs privileges this user lacks"
    else:
        why = f"cannot be used ({exc.strerror})"
    return (
        f"Port {port} on {host} {why}: stop that, or choose another port, "
        f"e.g. PORT={port + 1 if port < 65535 else 8000} scripts/run"
    )


def queue_kind(config: Any) -> str:
    """`Redis 127.0.0.1:6379/0 channel flask-socketio route shared` (no password):
    processes that must share a deployment's chat show the same, and two deployments
    on one Redis server must show different channels."""
    parsed = urlsplit(config["REDIS_URL"])
    if parsed.scheme == "unix":
        where = parsed.path
    else:
        host, port = parsed.hostname or "localhost", parsed.port or 6379
        where = f"{host}:{port}{parsed.path or '/0'}"
    channel = config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    route = config.get("SOCKETIO_ROUTE") or "shared"
    return f"Redis {where} channel {channel} route {route}"


def startup_line(app: Flask, sock: socket.socket) -> str:
    """Where it listens, the async mode, the database, the model, in one line."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = app.config
    redis = queue_kind(config) if config.get("REDIS_URL") else "single process"
    return " · ".join(
        [
            f"CyberScan Messenger on http://{shown}:{port}",
            f"async {ASYNC_NOTES[config['SOCKETIO_ASYNC_MODE']]}",
            f"database {database_kind(config['SQLALCHEMY_DATABASE_URI'])}",
            f"model {app.extensions['detector'].version}",
            redis,
            "Ctrl+C stops",
        ]
    )


# How long a stopping process waits for its connections' disconnect handlers (their
# presence and `user_left`) before it leaves presence and exits.
CLOSE_WAIT_SECONDS = 10.0
CLOSED = "cyberscan.closed"


def serve(app: Flask, sock: socket.socket) -> None:
    """Serve until Ctrl+C or SIGTERM (`close_everything`), then leave presence."""
    print(startup_line(app, sock), flush=True)
    # Another process's closes come on the queue, when there is one and the process
    # that closed published on it (a `flask` command may run without REDIS_URL).
    sessions.start_checking(app)
    closed = app.extensions[CLOSED] = socketio.server.eio.create_event()
    try:
        run_server(app, sock)
    except KeyboardInterrupt:
        pass
    # Under eventlet and threads the closes run beside the main loop, which has just
    # stopped: the process must not exit before their `user_left` is published.
    closed.wait(CLOSE_WAIT_SECONDS)
    leave_presence(app)


def close_everything(app: Flask) -> None:
    """On Ctrl+C or SIGTERM: close every Socket.IO connection of this process at once
    (each goes through the disconnect handler, so presence and `user_left` are right;
    its client reconnects, behind a proxy to another process). Without this the
    server would wait for each long-polling request to end, up to 25 s."""
    # A client's request on a session closed here is no error of the server's.
    logging.getLogger("engineio.server").setLevel(logging.CRITICAL)
    engine = socketio.server.eio
    try:
        for connection in list(engine.sockets.values()):
            # Not eio.disconnect(): it waits for a long-polling client to fetch the
            # close packet, for ever if none is waiting. The disconnect handler runs
            # here, before close() returns.
            connection.close(wait=False, reason=engine.reason.SERVER_DISCONNECT)
        engine.sockets = {}
    finally:
        closed = app.extensions.get(CLOSED)
        if closed is not None:
            closed.set()


def leave_presence(app: Flask) -> None:
    """Take what is left of this process's connections out of the shared presence
    registry and say `user_left` for the people now offline, as the other processes
    would do only after its heartbeat expired (about 45 s) had it died instead."""
    registry = app.extensions.get(presence.EXTENSION)
    forget = getattr(registry, "forget_process", None)
    if forget is None:  # one process: presence ends with it
        log.info("stopped")
        return
    try:
        gone = forget()
        announce_gone(app)(gone)
    except RedisError as exc:
        log.warning("stopped; presence left to expire (Redis: %s)", exc)
        return
    log.info("stopped; presence left")


# Open files a process needs beside its connections: the database pool (up to 20),
# Redis (queue, presence, limits), the listener, the model, the log.
FILES_BESIDE_CONNECTIONS = 128


def connection_cap(wanted: int) -> int:
    """How many connections to serve at once: SOCKETIO_MAX_CONNECTIONS, within the
    open-file limit.

    The soft limit is raised as far as the hard one allows (often from 1024); if the
    connections still do not fit, they are capped, with one warning. Past the limit
    eventlet's accept() raises EMFILE out of its server, ending the process, and gevent
    writes a traceback for every refused accept: a few hundred idle connections were
    enough. At the cap both servers leave further connections waiting in the backlog.
    """
    needed = wanted + FILES_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    capped = max(soft - FILES_BESIDE_CONNECTIONS, 1)
    log.warning(
        "SOCKETIO_MAX_CONNECTIONS=%d needs %d open files but this process may open "
        "%d (ulimit -n; LimitNOFILE under systemd): serving at most %d connections "
        "at once",
        wanted,
        needed,
        soft,
        capped,
    )
    return capped


def interrupt_here(app: Flask) -> Callable[[int, Any], None]:
    """Ctrl+C and SIGTERM under threads: signals land in the main thread, the server's."""

    def interrupt(signum: int, frame: Any) -> None:
        socketio.start_background_task(close_everything, app)
        raise KeyboardInterrupt

    return interrupt


def interrupt_main_greenlet(app: Flask) -> Callable[[int, Any], None]:
    """Ctrl+C and SIGTERM under eventlet: KeyboardInterrupt in the main greenlet (the
    server's accept loop), whichever greenlet the signal lands in. Raised where it
    lands, in an event handler's greenlet, engineio logs it as that handler's error
    and the process serves on: a SIGTERM that came while a message was handled was
    lost. It is thrown from the hub instead, as eventlet's own `kill` does.

    An idle hub sleeps in epoll until its next timer, and after a signal's handler
    Python resumes that wait for the time it had left (PEP 475): an idle server took
    9 s to stop. So the handler also writes a byte down a pipe the hub watches."""
    from eventlet.hubs import get_hub, trampoline
    from eventlet.patcher import original

    main = greenlet.getcurrent()
    os = original("os")  # the unpatched calls: the handler may run inside the hub
    awake, wake = os.pipe()
    os.set_blocking(awake, False)
    os.set_blocking(wake, False)

    def drain() -> None:
        while True:
            trampoline(awake, read=True)
            os.read(awake, 64)

    socketio.start_background_task(drain)

    def interrupt(signum: int, frame: Any) -> None:
        socketio.start_background_task(close_everything, app)
        get_hub().schedule_call_global(0, main.throw, KeyboardInterrupt)
        os.write(wake, b"\0")

    return interrupt


def run_server(app: Flask, sock: socket.socket) -> None:
    """Serve on the socket `bind()` made, under the configured async mode, until
    Ctrl+C or SIGTERM; returns (or raises KeyboardInterrupt) then."""
    config: dict[str, Any] = app.config
    mode = config["SOCKETIO_ASYNC_MODE"]

    if mode != "gevent":
        interrupt = (
            interrupt_main_greenlet(app) if mode == "eventlet" else interrupt_here(app)
        )
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)
    connections = connection_cap(config["SOCKETIO_MAX_CONNECTIONS"])
    # Imported per mode: only the chosen server library is loaded (and monkey-patched).
    if mode == "eventlet":
        import eventlet.wsgi

        # eventlet.wsgi caps simultaneous connections at 1024 unless max_size is raised;
        # it also waits for headers forever and answers a request line over 8 KB with
        # an empty 414 (realtime/transport.py).
        eventlet.wsgi.server(
            sock,
            app,
            log_output=False,
            max_size=connections,
            **eventlet_server_options(
                eventlet.wsgi.HttpProtocol, config["HEADER_TIMEOUT"]
            ),
        )
    elif mode == "gevent":
        from gevent.pywsgi import WSGIHandler, WSGIServer

        # The same bounds as under eventlet: at most SOCKETIO_MAX_CONNECTIONS at once
        # (a pool of that size), and HEADER_TIMEOUT for the request line and headers.
        # Its notes on a client's malformed request go to WSGI_ERRORS (DEBUG records),
        # not to stderr in its own format.
        server = WSGIServer(
            sock,
            app,
            log=None,
            error_log=WSGI_ERRORS,
            spawn=connections,
            handler_class=gevent_handler_class(WSGIHandler, config["HEADER_TIMEOUT"]),
        )

        def stop() -> None:
            close_everything(app)
            server.stop()

        def stop_later(signum: int, frame: Any) -> None:
            # Not KeyboardInterrupt: raised in gevent's hub, the hub prints it (two
            # lines outside the log's format) before passing it on.
            socketio.start_background_task(stop)

        signal.signal(signal.SIGINT, stop_later)
        signal.signal(signal.SIGTERM, stop_later)
        server.serve_forever()
    else:
        make_server(
            config["HOST"], config["PORT"], app, threaded=True, fd=sock.fileno()
        ).serve_forever()
