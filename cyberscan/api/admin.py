"""Admin REST (API.md §7). Issue 5 fills this in."""

from flask_smorest import Blueprint

bp = Blueprint(
    "admin", __name__, url_prefix="/api/admin", description="Moderation and admin"
)
