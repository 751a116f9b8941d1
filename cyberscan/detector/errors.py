"""The detector's one error, apart from scikit-learn so that catching it loads nothing."""

from __future__ import annotations

import os


class ArtifactError(Exception):
    """The model artifact is missing, corrupt or incompatible with this installation."""


def missing_artifact(path: object) -> ArtifactError:
    """The refusal of a model path that names no artifact file: a folder, or nothing.

    The path comes from ``models/CURRENT`` (which ``python -m train.promote vN``
    writes), from ``CLASSIFIER_PATH`` or from a command's ``--model``, so the message
    names each way to point at an existing version."""
    if os.path.isdir(str(path)):
        return ArtifactError(
            f"Model artifact {path} is a folder, not an artifact; name one of its "
            "files, models/cyberscan-clf-vN.joblib."
        )
    return ArtifactError(
        f"Model artifact {path} does not exist. The server serves the version "
        "models/CURRENT names (`python -m train.promote vN` changes it) unless "
        "CLASSIFIER_PATH names another: promote or name an existing "
        "models/cyberscan-clf-vN.joblib, or train one with `python -m train.train`."
    )
