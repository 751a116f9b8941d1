"""The REST API: flask-smorest's Api with the contract's errors, and its request guard."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from cyberscan.api.errors import http_error_body
from cyberscan.errors import BadRequest
from cyberscan.pages import NO_STORE
from cyberscan.schemas.error import ErrorSchema

BODY_METHODS = {"POST", "PUT", "PATCH"}


class CyberscanApi(Api):
    """flask-smorest's Api with the contract's error body (`error` code and a message)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, status, headers = super().handle_http_exception(error)
        return http_error_body(error, payload), status, headers


api = CyberscanApi()


def require_json_object() -> None:
    """A request body, when there is one, must be a UTF-8 JSON object (400 otherwise)."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return
    body = request.get_data(cache=True)  # read and cached by app.read_body
    if not body:
        return
    if not request.is_json:
        raise BadRequest(
            "The request body must be JSON (Content-Type: application/json)."
        )
    # Flask's parser skips a UTF-8 byte order mark and webargs' does not; JSON sent
    # over a network carries none (RFC 8259 §8.1), so it is refused here, as non-JSON.
    if body.startswith(b"\xef\xbb\xbf") or not isinstance(
        request.get_json(silent=True), dict
    ):
        raise BadRequest("The request body must be a JSON object in UTF-8.")


def no_store(response: Response) -> Response:
    """No API answer is kept by a browser or proxy cache (tokens, email addresses,
    exports: RFC 6749 §5.1 asks it of token answers) or read as anything but its
    declared type. An after_request hook; pages under /api (the docs) set theirs first."""
    if request.path.startswith("/api/"):
        for name, value in NO_STORE.items():
            response.headers.setdefault(name, value)
    return response
