"""Chat history REST (API.md §4). Issue 4 fills this in."""

from flask_smorest import Blueprint

bp = Blueprint(
    "chat", __name__, url_prefix="/api/chat", description="Chat history and presence"
)
