"""Comments (API.md §3). Issue 5 fills this in."""

from flask_smorest import Blueprint

bp = Blueprint("comments", __name__, url_prefix="/api", description="Comments on posts")
