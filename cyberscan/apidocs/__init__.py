"""/api/docs: Swagger UI over /api/openapi.json, served from vendored files (no CDN).

The assets are swagger-ui-dist, pinned in dashboard-ui/package.json and copied into
static/vendor/ by `npm run vendor`; static/docs.js starts it, so the page needs no
inline script and keeps the dashboard's strict Content-Security-Policy.
"""

from flask import Blueprint, render_template, url_for

from cyberscan.pages import add_security_headers

bp = Blueprint(
    "apidocs",
    __name__,
    url_prefix="/api/docs",
    template_folder="templates",
    static_folder="static",
)
bp.after_request(add_security_headers)


@bp.get("")
@bp.get("/")
def docs_page() -> str:
    """Swagger UI listing every operation of the OpenAPI document."""
    return render_template(
        "apidocs/swagger_ui.html", spec_url=url_for("api-docs.openapi_json")
    )
