"""`python run.py`: bind the port (refusing one in use), say one line, serve.

Flask-SocketIO's `socketio.run()` lets eventlet bind with SO_REUSEPORT, so a second
server on the same port starts silently and the kernel splits the chat between two
processes with separate presence. Binding here, without it, makes that a clear error.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from cyberscan.realtime.transport import (
    WSGI_ERRORS,
    eventlet_server_options,
    gevent_handler_class,
)

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


def database_kind(url: str) -> str:
    """`SQLite /path/file.db` or `mysql 127.0.0.1:3306/cyberscan` (never a password)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"SQLite {parsed.database or ':memory:'}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 3306}/{parsed.database}"
    return f"{'MariaDB/MySQL' if backend == 'mysql' else backend} {where}"


def startup_line(app: Flask, sock: socket.socket) -> str:
    """Where it listens, the async mode, the database, the model, in one line."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = app.config
    redis = "Redis message queue" if config.get("REDIS_URL") else "single process"
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


def serve(app: Flask, sock: socket.socket) -> None:
    """Serve on the socket `bind()` made, under the configured async mode."""
    config: dict[str, Any] = app.config
    print(startup_line(app, sock), flush=True)
    mode = config["SOCKETIO_ASYNC_MODE"]
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
            max_size=config["SOCKETIO_MAX_CONNECTIONS"],
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
        WSGIServer(
            sock,
            app,
            log=None,
            error_log=WSGI_ERRORS,
            spawn=config["SOCKETIO_MAX_CONNECTIONS"],
            handler_class=gevent_handler_class(WSGIHandler, config["HEADER_TIMEOUT"]),
        ).serve_forever()
    else:
        make_server(
            config["HOST"], config["PORT"], app, threaded=True, fd=sock.fileno()
        ).serve_forever()
