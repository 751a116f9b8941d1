"""Score a labelled CSV with a trained artifact and print one JSON object of metrics.

    python -m train.evaluate [--data FILE.csv] [--model PATH] [--threshold T]
                             [--sweep T1,T2,...]

``--data`` defaults to the committed development set (``train/eval/dev_set.csv``),
``--model`` to the served model (``CLASSIFIER_PATH`` when set, else the version
``models/CURRENT`` names), ``--threshold``
to the threshold in the model card (0.6).  The output holds the "clean flagged" and
"abuse caught" shares; when the file has a ``category`` column it adds the share
flagged per category.  ``by_address`` gives both shares apart for the texts that
address their reader ("you", "ur", an @mention) and for the others.  ``--sweep``
adds ``sweep``: clean flagged and abuse caught at each of the thresholds given, for
choosing ``BULLYING_THRESHOLD`` on one's own messages.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from config import ConfigError, model_version_name, served_classifier
from cyberscan.detector.artifact import ArtifactError
from cyberscan.detector.classifier import Detector
from train.data import (
    DEV_SET,
    DataError,
    display_path,
    read_labelled_csv,
    run_cli,
    trained_on_warning,
)
from train.metrics import (
    address_rates,
    binary_metrics,
    chat_rates,
    label_shares,
    rounded,
    threshold_sweep,
)


def check_model_arg(path: Path) -> None:
    """Refuse (``ArtifactError``) a card or a bare version given as ``--model``."""
    if path.suffix == ".json":
        raise ArtifactError(
            f"{path} is the model card; --model takes the model, "
            f"{path.with_suffix('.joblib')}"
        )
    try:
        name = model_version_name(str(path))
    except ConfigError:
        return
    if not path.exists():
        raise ArtifactError(
            f"--model takes a file: did you mean --model models/{name}.joblib?"
        )


def thresholds(value: str) -> list[float]:
    """``--sweep``'s value: comma-separated thresholds in [0, 1], sorted, no repeats."""
    try:
        values = [float(v) for v in value.split(",")]
    except ValueError:
        values = []
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected thresholds between 0 and 1 separated by commas, e.g. "
            f"0.5,0.6,0.7; got {value!r}"
        )
    return sorted(set(values))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluate CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate",
        description="Evaluate a model on a text,label CSV (default: the development set).",
    )
    parser.add_argument(
        "--data",
        default=str(DEV_SET),
        help="CSV with text,label columns (default: train/eval/dev_set.csv)",
    )
    parser.add_argument(
        "--model",
        help="artifact .joblib (default: the served model, CLASSIFIER_PATH, else "
        "the version models/CURRENT names)",
    )
    parser.add_argument(
        "--threshold", type=float, help="decision threshold (default: card's)"
    )
    parser.add_argument(
        "--sweep",
        type=thresholds,
        metavar="T1,T2,...",
        help="also report clean flagged and abuse caught at each of these thresholds "
        "(e.g. 0.5,0.55,0.6,0.65,0.7; default: none)",
    )
    args = parser.parse_args(argv)
    try:
        model_path = args.model or served_classifier()
        if args.model:
            check_model_arg(Path(args.model))
        if not model_path:
            raise ArtifactError(
                "no served model (models/CURRENT names none and CLASSIFIER_PATH is "
                "not set); pass --model PATH"
            )
        detector = Detector.from_path(model_path)
        data = read_labelled_csv(args.data, require_both_classes=False)
    except (ArtifactError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warning = trained_on_warning(data, detector.version, detector.card)
    if warning:
        print(warning, file=sys.stderr)
    threshold = detector.threshold if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        print(
            f"error: --threshold must be between 0 and 1, got {threshold}",
            file=sys.stderr,
        )
        return 2
    scores = [v.probability for v in detector.score_batch(data.texts)]
    result: dict[str, Any] = {
        "data": display_path(Path(args.data)),
        "sha256": data.sha256,
        "model": detector.version,
        **binary_metrics(data.labels, scores, threshold),
        **label_shares(
            np.asarray(data.labels, dtype=int), np.asarray(scores) >= threshold
        ),
        "by_address": address_rates(data.labels, scores, data.texts, threshold),
    }
    if any(data.categories):
        rates = chat_rates(data.labels, scores, data.categories, threshold)
        result["by_category"] = rates["by_category"]
    if args.sweep:
        result["sweep"] = threshold_sweep(data.labels, scores, args.sweep)
    print(json.dumps(rounded(result), indent=2))
    return 0


if __name__ == "__main__":
    run_cli(main)
