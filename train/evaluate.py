"""Score a labelled CSV with a trained artifact and print one JSON object of metrics.

    python -m train.evaluate --data FILE.csv [--model PATH] [--threshold T]

``--model`` defaults to the highest ``models/cyberscan-clf-vN.joblib``; ``--threshold``
defaults to the threshold in the model card (0.6 for the committed model).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS_DIR = REPO_ROOT / "models"


class DataError(Exception):
    """A training/evaluation CSV is unusable; the message names the file (and line)."""


@dataclass
class LabelledData:
    """The rows of one CSV file."""

    path: Path
    sha256: str
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def read_labelled_csv(
    path: str | Path, *, require_both_classes: bool = True
) -> LabelledData:
    """Read a UTF-8 CSV with a header holding ``text`` and ``label`` (0/1) columns.

    Raises ``DataError`` naming the file and the (1-based, physical) line for a missing
    or empty file, missing columns, a row with the wrong number of fields, an empty
    text, a label other than 0/1, undecodable bytes, or (when required) one class only.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty (expected a header line 'text,label')")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}, line {line}: not valid UTF-8 ({exc.reason})"
        ) from None
    data = LabelledData(path=path, sha256=hashlib.sha256(raw).hexdigest())
    reader = csv.reader(content.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"{path}, line 1: malformed CSV header ({exc})") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in names]
    if missing:
        raise DataError(
            f"{path}, line 1: header lacks the column(s) {', '.join(missing)} "
            f"(found: {', '.join(header) or 'nothing'}); expected 'text,label'"
        )
    text_i, label_i = names.index("text"), names.index("label")
    cat_i = names.index("category") if "category" in names else None
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(
                f"{path}, line {reader.line_num}: malformed CSV ({exc})"
            ) from None
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path}, line {start}: expected {len(header)} fields like the header, "
                f"got {len(row)}"
            )
        text = row[text_i]
        label = row[label_i].strip()
        if not text.strip():
            raise DataError(f"{path}, line {start}: text is empty")
        if label not in ("0", "1"):
            raise DataError(
                f"{path}, line {start}: label must be 0 or 1, got {label!r}"
            )
        data.texts.append(text)
        data.labels.append(int(label))
        data.categories.append(row[cat_i] if cat_i is not None else "")
    if not data.texts:
        raise DataError(f"{path}: no data rows after the header")
    if require_both_classes and len(set(data.labels)) < 2:
        only = data.labels[0]
        raise DataError(
            f"{path}: every row has label {only}; a training file needs both 0 and 1 rows"
        )
    return data


def binary_metrics(
    y_true: Sequence[int], scores: Sequence[float], threshold: float
) -> dict[str, Any]:
    """Return ranking metrics and thresholded metrics (predict 1 when score >= threshold)."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    both = 0 < y.sum() < len(y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, s)) if both else None,
        "average_precision": float(average_precision_score(y, s)) if both else None,
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
        "accuracy": (tp + tn) / len(y) if len(y) else 0.0,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def rounded(obj: Any, digits: int = 4) -> Any:
    """Round every float in a nested structure (for printing and model cards)."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v, digits) for v in obj]
    return obj


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluate CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate",
        description="Evaluate a model on a text,label CSV.",
    )
    parser.add_argument("--data", required=True, help="CSV with text,label columns")
    parser.add_argument("--model", help="artifact .joblib (default: newest in models/)")
    parser.add_argument(
        "--threshold", type=float, help="decision threshold (default: card's)"
    )
    parser.add_argument(
        "--by-category",
        action="store_true",
        help="also report metrics per value of the CSV's category column",
    )
    args = parser.parse_args(argv)

    from cyberscan.detector.artifact import ArtifactError, latest_artifact
    from cyberscan.detector.classifier import Detector

    try:
        model_path = (
            Path(args.model) if args.model else latest_artifact(DEFAULT_MODELS_DIR)
        )
        if model_path is None:
            raise ArtifactError(f"no cyberscan-clf-vN.joblib in {DEFAULT_MODELS_DIR}")
        detector = Detector.from_path(model_path)
        data = read_labelled_csv(args.data, require_both_classes=False)
    except (ArtifactError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = detector.threshold if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        print(
            f"error: --threshold must be between 0 and 1, got {threshold}",
            file=sys.stderr,
        )
        return 2
    scores = [detector.probability(t) for t in data.texts]
    result: dict[str, Any] = {
        "data": str(args.data),
        "model": detector.version,
        **binary_metrics(data.labels, scores, threshold),
    }
    if args.by_category and data.categories:
        per: dict[str, Any] = {}
        for cat in sorted(set(data.categories)):
            idx = [i for i, c in enumerate(data.categories) if c == cat]
            per[cat] = binary_metrics(
                [data.labels[i] for i in idx], [scores[i] for i in idx], threshold
            )
        result["by_category"] = per
    print(json.dumps(rounded(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
