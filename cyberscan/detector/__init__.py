"""Cyberbullying detector: loads the trained artifact once and scores texts.

``init_app`` checks that ``CLASSIFIER_PATH`` (by default the version ``models/CURRENT``
names, see ``config.current_classifier``) names a file; ``load`` verifies and compiles
it and stores a :class:`Detector` in ``app.extensions["detector"]``. The server calls
``load`` before it listens (``run.py``), so a model it cannot use stops it at start and
the first message pays nothing; an app that never scores (the ``flask`` commands) never
loads the model, nor scikit-learn: ``get_detector`` loads it on first use. Thresholds
(``BULLYING_THRESHOLD``) are applied by the caller, never here.
"""

from __future__ import annotations

import os
import threading
from importlib import import_module
from typing import TYPE_CHECKING, Any

from cyberscan.detector.errors import ArtifactError, missing_artifact

if TYPE_CHECKING:
    from cyberscan.detector.classifier import Detector, Verdict

__all__ = [
    "ArtifactError",
    "Detector",
    "Verdict",
    "get_detector",
    "init_app",
    "load",
    "load_detector",
]

# Imported on first use: scikit-learn, SciPy and the scorer take seconds to import,
# and a command that never scores should not wait for them.
_LAZY = {
    "Detector": "cyberscan.detector.classifier",
    "Verdict": "cyberscan.detector.verdict",
}

# The test-suite builds an app per test; caching by (realpath, mtime, size) means a
# multi-MB artifact is read and verified once per process, and a replaced file is
# picked up again.
_CACHE: dict[tuple[str, int, int], Detector] = {}
_LOCK = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cyberscan.detector' has no attribute {name!r}")


def _stat(path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    real = os.path.realpath(path)
    try:
        return real, os.stat(real)
    except OSError as exc:
        raise missing_artifact(path) from exc


def load_detector(path: str | os.PathLike[str]) -> Detector:
    """Return a verified :class:`Detector` for ``path``, cached per file version."""
    real, stat = _stat(path)
    key = (real, stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        detector = _CACHE.get(key)
        if detector is None:
            detector = import_module(_LAZY["Detector"]).Detector.from_path(real)
            _CACHE[key] = detector
    return detector


def _path(app: Any) -> str:
    path = app.config.get("CLASSIFIER_PATH")
    if not path:
        raise ArtifactError(
            "No model to serve: models/CURRENT is missing or does not name a version "
            "and CLASSIFIER_PATH is not set; run `python -m train.promote vN` or set "
            "CLASSIFIER_PATH to a models/cyberscan-clf-vN.joblib."
        )
    return path


def init_app(app: Any) -> None:
    """Refuse an app whose ``CLASSIFIER_PATH`` is unset or names no file; load nothing."""
    _stat(_path(app))
    app.extensions.setdefault("detector", None)


def load(app: Any) -> Detector:
    """Verify and compile the app's model now (once per file version and process)."""
    detector = app.extensions.get("detector")
    if detector is None:
        detector = app.extensions["detector"] = load_detector(_path(app))
    return detector


def get_detector() -> Detector:
    """Return the Detector of the current Flask app, loading it on first use."""
    from flask import current_app

    return load(current_app)
