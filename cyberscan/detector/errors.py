"""The detector's one error, apart from scikit-learn so that catching it loads nothing."""

from __future__ import annotations


class ArtifactError(Exception):
    """The model artifact is missing, corrupt or incompatible with this installation."""
