"""Make a trained version the served model: ``python -m train.promote vN``.

The server never switches model silently: it serves the version ``models/CURRENT``
names (unless ``CLASSIFIER_PATH`` overrides it), and only this command changes that
file, after the artifact passes the same verification the server does at start-up
(sha256 against its card, scikit-learn version, a pipeline the scorer understands)
and its card is the one trained with it (:func:`check_card`).  Restart the server to
serve the new version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config import (
    CURRENT_FILE,
    MODELS_DIR,
    ConfigError,
    model_version_name,
)
from cyberscan.detector.artifact import (
    ArtifactError,
    next_version,
    save_artifact,
    version_name,
)
from cyberscan.detector.classifier import Detector
from cyberscan.detector.verdict import logit, sigmoid
from train.data import command, display_path, run_cli
from train.metrics import flags_more

# What ``save_artifact`` adds to the card train.train hands it; the rest is what the
# artifact's ``CARD_ATTR`` digest covers.
SAVE_FIELDS = ("version", "artifact", "artifact_sha256", "artifact_bytes")
# The pipeline attribute train.train writes into every artifact (v28 and older have none):
# {"version": "cyberscan-clf-vN", "card_sha256": card_digest(card)}.
CARD_ATTR = "cyberscan_card_"


def card_digest(card: dict[str, Any]) -> str:
    """The sha256 of a model card's content, without the fields ``save_artifact`` adds
    (read back from JSON first, so the card as written and as read agree)."""
    body = json.loads(json.dumps(card))
    for key in SAVE_FIELDS:
        body.pop(key, None)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_sealed(
    pipeline: Any, models_dir: Path, card: dict[str, Any], version: int | None = None
) -> tuple[Path, Path]:
    """``save_artifact`` with the version and the card's digest written into the
    artifact (``CARD_ATTR``), so that :func:`check_card` can tell its own card."""
    version = next_version(models_dir) if version is None else version
    meta = {"version": version_name(version), "card_sha256": card_digest(card)}
    setattr(pipeline, CARD_ATTR, meta)
    return save_artifact(pipeline, models_dir, card, version)


def check_card(detector: Detector, name: str) -> None:
    """Refuse (``ArtifactError``) a card that is not the one trained with the artifact.

    The card must name ``name`` (the version the server reports comes from it); an
    artifact that records its version and its card's digest must agree with both; an
    older artifact, which records neither, must at least have a threshold that agrees
    with the operating point its card records (the raw threshold moved by the
    intercept shift)."""
    card = detector.card
    named = [
        detector.version,
        str(card.get("artifact", f"{name}.joblib")).removesuffix(".joblib"),
    ]
    if any(n != name for n in named):
        raise ArtifactError(
            f"{name}'s card names {detector.version} ({card.get('artifact')}), so the "
            f"server would report that version; a copied model needs retraining, "
            "not a new name"
        )
    meta = getattr(detector.pipeline, CARD_ATTR, None)
    if isinstance(meta, dict):
        if meta.get("version") != name:
            raise ArtifactError(
                f"{name}.joblib was written as {meta.get('version')}, not {name}"
            )
        if meta.get("card_sha256") != card_digest(card):
            raise ArtifactError(
                f"{name}.json was edited after training (its content differs from "
                f"the card {name}.joblib was written with)"
            )
        return
    choice = card.get("threshold_choice") or {}
    raw, shift = choice.get("raw_threshold"), choice.get("intercept_shift")
    if isinstance(raw, float) and isinstance(shift, float) and 0 < raw < 1:
        trained_at = sigmoid(logit(raw) + shift)
        if abs(trained_at - detector.threshold) > 1e-4:
            raise ArtifactError(
                f"{name}.json says threshold {detector.threshold:g} but its model was "
                f"fitted for {trained_at:.4g} (raw {raw:g} shifted by {shift:+g}): "
                "the card was edited after training"
            )


def promote(version: str, models_dir: Path = MODELS_DIR) -> tuple[str, dict[str, Any]]:
    """Verify ``version`` and write its name to ``models_dir/CURRENT``; return the name
    and the version's card."""
    name = model_version_name(version)
    detector = Detector.from_path(models_dir / f"{name}.joblib")
    check_card(detector, name)
    fd, tmp = tempfile.mkstemp(dir=models_dir, prefix=".CURRENT.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
        os.replace(tmp, models_dir / CURRENT_FILE)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name, detector.card


def trained_warning(
    name: str, card: dict[str, Any], before: str, models_dir: Path
) -> str | None:
    """The warning `train.train` printed when it wrote this version, said again as it
    is served: it flagged far more of the development set's clean messages than the
    model served then (``train.metrics.flags_more``); else None."""
    served = card.get("served_model") or {}
    shares = flags_more(card.get("dev"), served.get("dev"))
    if shares is None:
        return None
    mine, theirs = shares
    back = (
        f"; `{command(f'train.promote {before}')}` goes back"
        if before != "nothing"
        else ""
    )
    report = display_path(models_dir / f"{name}-report" / "index.html")
    return (
        f"warning: when it was trained, {name} flagged {mine:.1%} of the development "
        f"set's clean messages, {served.get('version')} (served then) {theirs:.1%}: "
        f"look at its report, {report}, before the server restarts with it{back}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the promote CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.promote",
        description="Serve a trained model version (writes models/CURRENT).",
    )
    parser.add_argument("version", help="vN or cyberscan-clf-vN")
    parser.add_argument(
        "--models-dir",
        default=str(MODELS_DIR),
        help="folder holding the versions and the CURRENT file (default: the "
        "repository's models/)",
    )
    args = parser.parse_args(argv)
    models_dir = Path(args.models_dir)
    current = models_dir / CURRENT_FILE
    shown = display_path(current)
    before = current.read_text("utf-8").strip() if current.is_file() else "nothing"
    try:
        name, card = promote(args.version, models_dir)
    except (ArtifactError, ConfigError, OSError) as exc:
        reason = str(exc).rstrip(".")
        if isinstance(exc, OSError):  # a folder not writable, CURRENT a folder
            reason = f"cannot write {shown}: {exc.strerror or exc}"
        print(f"error: {reason}; {shown} still names {before}", file=sys.stderr)
        return 2
    if name == before:
        print(f"{shown} already names {name} (verified again); nothing changed")
    else:
        print(f"{shown}: {before} -> {name}; restart the server to serve it")
        warning = trained_warning(name, card, before, models_dir)
        if warning:
            print(warning, file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
