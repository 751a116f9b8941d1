"""The application factory: `create_app()` and its register_* helpers."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, load_config, require_settings
from cyberscan import apidocs, dashboard, detector, realtime, web
from cyberscan.api import (
    BODY_METHODS,
    admin,
    auth,
    chat,
    comments,
    health,
    moderation,
    no_store,
    people,
    posts,
    require_json_object,
)
from cyberscan.api import api as rest_api
from cyberscan.api.errors import register_error_handlers
from cyberscan.cli import register_commands
from cyberscan.extensions import cors, db, jwt, limiter, migrate, socketio
from cyberscan.live import route
from cyberscan.realtime.packets import CheckedPacket
from cyberscan.realtime.transport import read_whole_body, refuse_long_request_line
from cyberscan.services import auth as auth_service

REST_BLUEPRINTS = (auth, health, chat, people, posts, comments, admin, moderation)


def create_app(config: type[Config] | Config | None = None, **overrides: Any) -> Flask:
    """Build a fully wired app; tests pass TestingConfig plus overrides."""
    app = Flask("cyberscan")
    app.config.from_object(config or load_config())
    app.config.update(overrides)
    require_settings(app.config)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    realtime.init_app(app)
    return app


def register_logging(app: Flask) -> None:
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def register_extensions(app: Flask) -> None:
    """Bind db, migrate, jwt, the REST api, CORS, limits, Socket.IO and the detector."""
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])
    db.init_app(app)
    migrate.init_app(
        app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True
    )
    jwt.init_app(app)
    jwt.token_in_blocklist_loader(
        lambda header, claims: auth_service.is_revoked(claims)
    )
    jwt.user_lookup_loader(lambda header, claims: auth_service.load_user(claims))
    jwt.token_verification_loader(people.token_scope_allows)
    rest_api.init_app(app)
    # A page on another origin reads only the response headers CORS exposes; a 429's
    # Retry-After is the contract's (API.md §1) way of saying how long to wait.
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
        expose_headers=["Retry-After"],
    )
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # Closes connections by room on every process, and keeps a block's kick
        # through a Redis outage (live/connections.py); SOCKETIO_ROUTE=process sends
        # an emit to one user only to the processes holding them (live/route.py).
        client_manager=route.client_manager(app),
        # Refuses reserved and malformed event names before dispatch.
        serializer=CheckedPacket,
        # One connection's events are handled one at a time, in the order they came:
        # messages sent back to back are stored and delivered in that order.
        async_handlers=False,
        cors_allowed_origins=app.config["CORS_ORIGINS"],
        logger=False,
        engineio_logger=False,
    )
    detector.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Every blueprint: the REST API's, the dashboard, the API docs, the web client."""
    app.before_request(refuse_long_request_line)
    app.before_request(read_body)
    app.before_request(require_json_object)
    app.before_request(canonical_bearer)
    app.after_request(no_store)
    for module in REST_BLUEPRINTS:
        rest_api.register_blueprint(module.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(apidocs.bp)
    app.register_blueprint(web.bp)


def canonical_bearer() -> None:
    """Spell the Authorization scheme `Bearer`: it is case-insensitive (RFC 9110
    §11.1) and clients send `bearer` too, but flask-jwt-extended matches `Bearer`
    exactly. (The socket handshake reads any case itself.)"""
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer " and not header.startswith("Bearer "):
        request.environ["HTTP_AUTHORIZATION"] = "Bearer " + header[7:]


def read_body() -> None:
    """Read a POST, PUT or PATCH body whole before any view or rate limit does, so
    that one over MAX_CONTENT_LENGTH gets a 413 on every route, chunked or not."""
    if request.method in BODY_METHODS:
        read_whole_body(request)
