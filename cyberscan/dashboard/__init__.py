"""The admin dashboard served at /admin: HTML pages, their assets, and cookie login.

Every URL under /admin needs an admin's access token (an HttpOnly cookie set by
POST /admin/login, or a Bearer header), except the login page, the login and logout
endpoints, and the two assets the login page loads. The page's data comes from the
admin REST API (/api/admin/...) with the same cookie.
"""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/admin", template_folder="templates")

from cyberscan.dashboard import views  # noqa: E402, F401  (registers the routes on bp)
