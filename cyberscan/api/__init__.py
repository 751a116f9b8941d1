"""REST blueprints and the request guard they share."""

from __future__ import annotations

from flask import Flask, request

from cyberscan.errors import BadRequest
from cyberscan.extensions import api

BODY_METHODS = {"POST", "PUT", "PATCH"}


def require_json_object() -> None:
    """A request body, when there is one, must be a UTF-8 JSON object (400 otherwise)."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return
    if not request.get_data(cache=True):  # reading enforces MAX_CONTENT_LENGTH (413)
        return
    if not request.is_json:
        raise BadRequest(
            "The request body must be JSON (Content-Type: application/json)."
        )
    if not isinstance(request.get_json(silent=True), dict):
        raise BadRequest("The request body must be a JSON object in UTF-8.")


def register_blueprints(app: Flask) -> None:
    from cyberscan import apidocs, dashboard, web
    from cyberscan.api import admin, auth, chat, comments, health, posts

    app.before_request(require_json_object)
    for module in (auth, health, chat, posts, comments, admin):
        api.register_blueprint(module.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(apidocs.bp)
    app.register_blueprint(web.bp)
