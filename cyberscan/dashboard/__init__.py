"""The admin dashboard served at /admin: HTML pages, their assets, and cookie login.

Every URL under /admin needs an admin's access token (an HttpOnly cookie set by
POST /admin/login, or a Bearer header), except the login page, the login and logout
endpoints, and the two assets the login page loads. The page's data comes from the
admin REST API (/api/admin/...) with the same cookie.
"""

from cyberscan.dashboard.views import bp

__all__ = ["bp"]
