"""CyberScan Messenger: moderated private messaging over REST and Socket.IO."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Flask is imported inside the functions: `train/` imports cyberscan.detector, and
# training must not pull in the web stack.
if TYPE_CHECKING:
    from flask import Flask

    from config import Config


def create_app(config: type[Config] | Config | None = None, **overrides: Any) -> Flask:
    """Build a fully wired app; tests pass TestingConfig plus overrides."""
    from flask import Flask

    from config import load_config, require_settings

    app = Flask(__name__)
    app.config.from_object(config or load_config())
    app.config.update(overrides)
    require_settings(app.config)
    register_logging(app)
    # Handlers registered before init_app are kept and bound to every app's server.
    from cyberscan import realtime  # noqa: F401

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)

    return app


def register_logging(app: Flask) -> None:
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def register_extensions(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from config import redis_queue_url
    from cyberscan import detector
    from cyberscan.extensions import api, cors, db, jwt, limiter, migrate, socketio
    from cyberscan.realtime.auth import SocketEventSessions
    from cyberscan.services import auth

    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])
    db.init_app(app)
    migrate.init_app(
        app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True
    )
    jwt.init_app(app)
    jwt.token_in_blocklist_loader(lambda header, claims: auth.is_revoked(claims))
    jwt.user_lookup_loader(lambda header, claims: auth.load_user(claims))
    api.init_app(app)
    cors.init_app(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}})
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=redis_queue_url(app.config.get("REDIS_URL")),
        channel=app.config.get("SOCKETIO_CHANNEL") or "flask-socketio",
        cors_allowed_origins=app.config["CORS_ORIGINS"],
        logger=False,
        engineio_logger=False,
    )
    app.session_interface = SocketEventSessions()
    detector.init_app(app)


def register_blueprints(app: Flask) -> None:
    from cyberscan.api import register_blueprints as register_api

    register_api(app)


def register_error_handlers(app: Flask) -> None:
    from cyberscan.api.errors import register_error_handlers as register_api_errors

    register_api_errors(app)


def register_commands(app: Flask) -> None:
    from cyberscan.cli import register_commands as register_cli

    register_cli(app)
