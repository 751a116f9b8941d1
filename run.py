"""Serve REST and Socket.IO: `python run.py` (HOST, PORT, DATABASE_URL, REDIS_URL, CYBERSCAN_ENV)."""

from config import load_config

CONFIG = load_config()

if CONFIG.SOCKETIO_ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif CONFIG.SOCKETIO_ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from cyberscan import create_app  # noqa: E402
from cyberscan.cli import settle_garbage_collector, upgrade_database  # noqa: E402
from cyberscan.extensions import socketio  # noqa: E402

app = create_app(CONFIG)

if __name__ == "__main__":
    upgrade_database(app)
    settle_garbage_collector(CONFIG)
    # eventlet.wsgi caps simultaneous connections at 1024 unless max_size is raised.
    server_options = (
        {"max_size": CONFIG.SOCKETIO_MAX_CONNECTIONS}
        if CONFIG.SOCKETIO_ASYNC_MODE == "eventlet"
        else {}
    )
    socketio.run(
        app,
        host=CONFIG.HOST,
        port=CONFIG.PORT,
        allow_unsafe_werkzeug=True,
        **server_options,
    )
