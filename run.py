"""Serve REST and Socket.IO: `python run.py` (HOST, PORT, DATABASE_URL, REDIS_URL, CYBERSCAN_ENV).

A setting, port, database, Redis or model the server cannot use stops it with one line
on stderr and status 1 (`config.ConfigError`, `serve.PortUnavailable`,
`serve.StartFailed`); Ctrl+C and SIGTERM stop it with status 0, while it starts too.
"""

import os
import signal


def stop_while_starting(signum: int, frame: object) -> None:
    """Ctrl+C or SIGTERM before the server serves: nothing is open to close yet (the
    server replaces this handler when it starts serving)."""
    os._exit(0)


# Before any other import: on a fresh clone the first imports compile their bytecode
# and take seconds, and a Ctrl+C then must not print a traceback either.
signal.signal(signal.SIGINT, stop_while_starting)
signal.signal(signal.SIGTERM, stop_while_starting)

from config import load_config  # noqa: E402

CONFIG = load_config()

# Monkey-patch before anything else imports socket or threading.
if CONFIG.SOCKETIO_ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif CONFIG.SOCKETIO_ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from cyberscan import create_app, detector  # noqa: E402
from cyberscan.cli import settle_garbage_collector, upgrade_database  # noqa: E402
from cyberscan.serve import bind, configure_logging, serve, start_failures  # noqa: E402

if __name__ == "__main__":
    # The port first: a second server on it fails at once, before the slow start.
    listener = bind(CONFIG.HOST, CONFIG.PORT)
    configure_logging(CONFIG.LOG_LEVEL)
    with start_failures(CONFIG):
        app = create_app(CONFIG)
        detector.load(app)  # before listening: a model it cannot use stops it here
        upgrade_database(app)
    settle_garbage_collector(CONFIG)
    serve(app, listener)
