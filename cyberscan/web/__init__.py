"""The people's web chat client served at /: one page and its ES modules, no build step.

Everything it shows comes from the public contract (REST with Bearer tokens and
Socket.IO), exactly as any other client would use it; the page itself holds no data.
"""

from cyberscan.web.views import bp

__all__ = ["bp"]
