"""Metrics shared by the training and evaluation CLIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from cyberscan.detector.features import addresses_reader


def binary_metrics(
    y_true: Sequence[int], scores: Sequence[float], threshold: float
) -> dict[str, Any]:
    """Return ranking metrics and thresholded metrics (predict 1 when score >= threshold);
    a figure that is undefined on these rows (precision with nothing flagged, recall
    with no abusive row, the false-positive rate with no clean row) is None."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    both = 0 < y.sum() < len(y)
    # None where a figure is undefined (no row flagged, no abusive or no clean row):
    # a 0.0 there would read as a measured failure.
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if tp:
        f1 = 2 * precision * recall / (precision + recall)
    else:
        f1 = 0.0 if fp + fn else None
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, s)) if both else None,
        "average_precision": float(average_precision_score(y, s)) if both else None,
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": fp / (fp + tn) if fp + tn else None,
        "accuracy": (tp + tn) / len(y) if len(y) else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def label_shares(y: np.ndarray, flagged: np.ndarray) -> dict[str, float | None]:
    """The shares of label-0 rows flagged ("clean flagged") and of label-1 rows
    flagged ("abuse caught"); None for a label with no row."""
    clean, abuse = y == 0, y == 1
    return {
        "clean_flagged": float(flagged[clean].mean()) if clean.any() else None,
        "abuse_caught": float(flagged[abuse].mean()) if abuse.any() else None,
    }


def chat_rates(
    labels: Sequence[int],
    scores: Sequence[float],
    categories: Sequence[str],
    threshold: float,
) -> dict[str, Any]:
    """Share flagged per category, plus "clean flagged" and "abuse caught" overall.

    For a clean category (label 0) the share flagged is its error rate; for an abuse
    category (label 1) it is the share caught.
    """
    y = np.asarray(labels, dtype=int)
    flagged = np.asarray(scores, dtype=float) >= threshold
    cats = np.asarray(categories, dtype=object)
    per: dict[str, Any] = {}
    for cat in sorted(set(categories)):
        m = cats == cat
        label = int(round(float(y[m].mean())))
        per[cat] = {
            "label": label,
            "n": int(m.sum()),
            "flagged": int(flagged[m].sum()),
            "flagged_share": float(flagged[m].mean()),
        }
    return {
        "threshold": float(threshold),
        "n": int(len(y)),
        **label_shares(y, flagged),
        "by_category": per,
    }


def threshold_sweep(
    labels: Sequence[int], scores: Sequence[float], thresholds: Sequence[float]
) -> list[dict[str, Any]]:
    """Clean flagged and abuse caught at each threshold (flag when score >= it): what
    an operator weighs when choosing ``BULLYING_THRESHOLD`` on their own messages.
    A share is None when the file has no row of that label."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    out = []
    for t in thresholds:
        flagged = s >= t
        out.append(
            {
                "threshold": float(t),
                "flagged": int(flagged.sum()),
                **label_shares(y, flagged),
            }
        )
    return out


def address_rates(
    labels: Sequence[int],
    scores: Sequence[float],
    texts: Sequence[str],
    threshold: float,
) -> dict[str, Any]:
    """Clean flagged and abuse caught, apart for the texts that address their reader.

    A text addresses its reader when it holds a second-person word or an @mention
    (``features.addresses_reader``, the model's own targeting cue).  The model leans
    on that cue, so a set whose clean texts say "you" more often is flagged more.
    """
    y = np.asarray(labels, dtype=int)
    flagged = np.asarray(scores, dtype=float) >= threshold
    addressed = np.fromiter((addresses_reader(t) for t in texts), bool, len(y))

    def counts(rows: np.ndarray, kind: str, hit: str) -> dict[str, Any]:
        return {
            kind: int(rows.sum()),
            hit: int(flagged[rows].sum()),
            f"{hit}_share": float(flagged[rows].mean()) if rows.any() else None,
        }

    return {
        name: {
            **counts(m & (y == 0), "clean", "clean_flagged"),
            **counts(m & (y == 1), "abuse", "abuse_caught"),
        }
        for name, m in (("addressed", addressed), ("not_addressed", ~addressed))
    }


# How many more points of the development set's clean messages a new model may flag
# than the model served when it was trained before `train.train` (and, when it is
# promoted, `train.promote`) says so.
FLAGS_MORE_POINTS = 0.05


def flags_more(
    dev: dict[str, Any] | None, served_dev: dict[str, Any] | None
) -> tuple[float, float] | None:
    """``(new, served)``: the shares of the development set's clean messages each model
    flags, when the new one flags more than ``FLAGS_MORE_POINTS`` more; else None (a
    figure missing, or not that far apart)."""
    mine = (dev or {}).get("clean_flagged")
    theirs = (served_dev or {}).get("clean_flagged")
    if mine is None or theirs is None or mine <= theirs + FLAGS_MORE_POINTS:
        return None
    return mine, theirs


def rounded(obj: Any, digits: int = 4) -> Any:
    """Round every float in a nested structure (for printing and model cards); a value
    that rounds to zero is 0.0, never "-0.0"."""
    if isinstance(obj, float):
        return round(obj, digits) + 0.0
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v, digits) for v in obj]
    return obj
