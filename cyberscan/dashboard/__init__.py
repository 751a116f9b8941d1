"""The admin dashboard served at /admin. Issue 5 fills this in."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/admin")
