"""CyberScan Messenger: moderated private messaging over REST and Socket.IO.

`create_app` lives in `cyberscan.app`. It is re-exported lazily (PEP 562) because
`train/` imports `cyberscan.detector`, which runs this file first, and training must not
pull in the web stack. No cycle is behind it: `cyberscan.app` imports nothing that
imports this package's attributes. The package has one other deferred import, for
speed: `cyberscan.detector` loads scikit-learn and the scorer on first use, so a
`flask` command that never scores does not wait for them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        try:
            return import_module("cyberscan.app").create_app
        except AttributeError as exc:  # would read as "no create_app" otherwise
            raise ImportError(f"importing cyberscan.app failed: {exc}") from exc
    raise AttributeError(f"module 'cyberscan' has no attribute {name!r}")
