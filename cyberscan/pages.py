"""What every HTML page the server renders sends: a strict CSP and no framing."""

from __future__ import annotations

from werkzeug.wrappers import Response

# No inline script or style anywhere, so a hostile string that slipped into the DOM as
# markup still could not run. 'self' covers same-origin ws:/wss: in CSP Level 3, which
# is all Socket.IO needs; images are only inline SVG charts and data: icons.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Kept by no cache and read as nothing but its declared type: every page and API
# answer (`api.no_store`), the CSV exports and the answers made below the app
# (`realtime.transport`).
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def add_security_headers(response: Response) -> Response:
    """Strict CSP, no sniffing, framing, referrer or caching (an after_request hook)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.update(NO_STORE)
    return response
