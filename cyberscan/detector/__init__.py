"""Cyberbullying detector: loads the trained artifact once and scores texts.

``init_app`` verifies and compiles the artifact named by ``CLASSIFIER_PATH`` (by default
the version ``models/CURRENT`` names, see ``config.current_classifier``) and stores
a :class:`Detector` in ``app.extensions["detector"]``.  Thresholds (``BULLYING_THRESHOLD``)
are applied by the caller, never here.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from cyberscan.detector.artifact import ArtifactError
from cyberscan.detector.classifier import Detector, Verdict

__all__ = [
    "ArtifactError",
    "Detector",
    "Verdict",
    "get_detector",
    "init_app",
    "load_detector",
]

# The test-suite builds an app per test; caching by (realpath, mtime, size) means a
# multi-MB artifact is read and verified once per process, and a replaced file is
# picked up again.
_CACHE: dict[tuple[str, int, int], Detector] = {}
_LOCK = threading.Lock()


def load_detector(path: str | os.PathLike[str]) -> Detector:
    """Return a verified :class:`Detector` for ``path``, cached per file version."""
    real = os.path.realpath(path)
    try:
        stat = os.stat(real)
    except OSError as exc:
        raise ArtifactError(
            f"Model artifact {path} does not exist; train one with `python -m train.train` "
            "or set CLASSIFIER_PATH to an existing models/cyberscan-clf-vN.joblib."
        ) from exc
    key = (real, stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        detector = _CACHE.get(key)
        if detector is None:
            detector = Detector.from_path(real)
            _CACHE[key] = detector
    return detector


def init_app(app: Any) -> None:
    """Load and verify ``app.config["CLASSIFIER_PATH"]`` once; store the Detector on the app."""
    path = app.config.get("CLASSIFIER_PATH")
    if not path:
        raise ArtifactError(
            "No model to serve: models/CURRENT is missing or does not name a version "
            "and CLASSIFIER_PATH is not set; run `python -m train.promote vN` or set "
            "CLASSIFIER_PATH to a models/cyberscan-clf-vN.joblib."
        )
    app.extensions["detector"] = load_detector(path)


def get_detector() -> Detector:
    """Return the Detector of the current Flask app."""
    from flask import current_app

    return current_app.extensions["detector"]
