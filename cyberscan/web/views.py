"""Web client routes: the page, its scripts and styles, and the shared Socket.IO bundle."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, send_from_directory
from werkzeug.wrappers import Response

from cyberscan.errors import NotFound
from cyberscan.pages import add_security_headers

bp = Blueprint("web", __name__, template_folder="templates")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# One vendored copy of socket.io-client serves both pages (dashboard-ui/vendor.js
# writes it); the dashboard keeps its own URL for it behind the admin check.
VENDOR_DIR = Path(__file__).resolve().parents[1] / "dashboard" / "static" / "vendor"
VENDORED = frozenset({"socket.io.min.js"})

# The strict CSP and headers every page the server renders sends (cyberscan/pages.py).
bp.after_request(add_security_headers)


@bp.get("/")
def index() -> str:
    """The chat client (public: it asks for a login itself)."""
    return render_template("web/index.html")


@bp.get("/web/static/<path:filename>")
def static_file(filename: str) -> Response:
    """The client's CSS and ES modules."""
    return send_from_directory(STATIC_DIR, filename, max_age=0)


@bp.get("/web/vendor/<string:filename>")
def vendor_file(filename: str) -> Response:
    """The vendored socket.io-client bundle the dashboard uses too."""
    if filename not in VENDORED:
        raise NotFound()
    return send_from_directory(VENDOR_DIR, filename, max_age=0)
