"""Saving, numbering, verifying and loading model artifacts.

An artifact is ``models/cyberscan-clf-vN.joblib`` (the fitted scikit-learn pipeline)
plus its model card ``models/cyberscan-clf-vN.json``.  Versions are immutable: files
are created with exclusive mode, so nothing ever overwrites an earlier version.

Trust note: joblib/pickle files run code when loaded.  Only load artifacts that
``train/`` in this repository produced; the sha256 check guards against corruption and
accidental swaps, not against a malicious file with a matching sidecar.  If artifacts
ever come from elsewhere, switch to ``skops.io`` with an explicit ``trusted=`` list.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from cyberscan.detector.errors import ArtifactError, missing_artifact

MODEL_NAME = "cyberscan-clf"
_VERSION_RE = re.compile(rf"^{MODEL_NAME}-v(\d+)\.joblib\Z")


def sha256_file(path: str | Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_path(artifact_path: str | Path) -> Path:
    """Return the model-card path that belongs to an artifact path."""
    return Path(artifact_path).with_suffix(".json")


def version_name(version: int) -> str:
    """Return the artifact name of a version number, e.g. ``cyberscan-clf-v3``."""
    return f"{MODEL_NAME}-v{version}"


def existing_versions(models_dir: str | Path) -> list[int]:
    """Return the version numbers present in ``models_dir`` (joblib or json), sorted."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return []
    found = set()
    for entry in folder.iterdir():
        match = _VERSION_RE.match(entry.name.replace(".json", ".joblib"))
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


def next_version(models_dir: str | Path) -> int:
    """Return the first unused version number (1 for an empty folder)."""
    versions = existing_versions(models_dir)
    return (versions[-1] + 1) if versions else 1


def save_artifact(
    pipeline: Any,
    models_dir: str | Path,
    card: dict[str, Any],
    version: int | None = None,
) -> tuple[Path, Path]:
    """Write a new immutable ``vN`` artifact and its model card; return both paths.

    ``card`` is completed with ``version``, ``artifact`` and ``artifact_sha256``.  Raises
    ``ArtifactError`` if that version already exists.
    """
    folder = Path(models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    version = next_version(folder) if version is None else version
    name = version_name(version)
    model_path = folder / f"{name}.joblib"
    card_path = folder / f"{name}.json"
    if model_path.exists() or card_path.exists():
        raise ArtifactError(
            f"{model_path} already exists; artifacts are never overwritten."
        )
    try:
        with open(model_path, "xb") as fh:
            joblib.dump(pipeline, fh, compress=("zlib", 6))
    except FileExistsError as exc:
        raise ArtifactError(
            f"{model_path} already exists; artifacts are never overwritten."
        ) from exc
    card = {
        **card,
        "version": name,
        "artifact": model_path.name,
        "artifact_sha256": sha256_file(model_path),
        "artifact_bytes": model_path.stat().st_size,
    }
    with open(card_path, "x", encoding="utf-8") as fh:
        json.dump(card, fh, indent=2, sort_keys=False)
        fh.write("\n")
    return model_path, card_path


def read_card(artifact_path: str | Path) -> dict[str, Any]:
    """Read and return the model card next to an artifact, or raise ``ArtifactError``."""
    card_path = sidecar_path(artifact_path)
    if not card_path.is_file():
        raise ArtifactError(
            f"Model card {card_path} is missing; every artifact needs its .json sidecar."
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Model card {card_path} is not valid JSON: {exc}") from exc
    if not isinstance(card, dict) or "artifact_sha256" not in card:
        raise ArtifactError(f"Model card {card_path} has no artifact_sha256 field.")
    return card


def load_artifact(artifact_path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Verify and load an artifact; return ``(pipeline, card)``.

    Refuses (``ArtifactError``) a missing file, a sha256 that differs from the card, or
    a scikit-learn version other than the one the card records.
    """
    path = Path(artifact_path)
    if not path.is_file():
        raise missing_artifact(path)
    card = read_card(path)
    trained_with = card.get("sklearn_version")
    if trained_with != sklearn.__version__:
        raise ArtifactError(
            f"Model artifact {path} was trained with scikit-learn {trained_with} but "
            f"scikit-learn {sklearn.__version__} is installed; install "
            f"scikit-learn=={trained_with} or retrain with `python -m train.train`."
        )
    actual = sha256_file(path)
    if actual != card["artifact_sha256"]:
        raise ArtifactError(
            f"Model artifact {path} has sha256 {actual} but its model card records "
            f"{card['artifact_sha256']}; the file is corrupt or was replaced."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            pipeline = joblib.load(path)
    except InconsistentVersionWarning as exc:
        raise ArtifactError(f"Model artifact {path} is incompatible: {exc}") from exc
    except Exception as exc:  # unpickling can fail in many ways; report them all alike
        raise ArtifactError(
            f"Model artifact {path} could not be loaded: {exc}"
        ) from exc
    return pipeline, card
