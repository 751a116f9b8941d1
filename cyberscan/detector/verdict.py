"""The detector's answer for one text, and how its reasons (terms) are chosen."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cyberscan.detector.features import NEGATED, is_function_term

MAX_TERMS = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """The detector's opinion of one text; thresholds are applied by the caller."""

    probability: float
    model_version: str
    terms: tuple[str, ...] = ()

    def is_bullying(self, threshold: float) -> bool:
        """Return True when the probability reaches ``threshold``."""
        return self.probability >= threshold

    def as_dict(self, threshold: float) -> dict[str, Any]:
        """Return the JSON-ready form used by the API."""
        return {
            "probability": self.probability,
            "is_bullying": self.is_bullying(threshold),
            "model_version": self.model_version,
            "terms": list(self.terms),
        }


def top_terms(ranked: list[tuple[str, float]]) -> tuple[str, ...]:
    """Return up to MAX_TERMS content terms with a positive score from ``ranked``.

    ``ranked`` is sorted by score, highest first.  Terms made only of function words
    ("you", "to your") are skipped; the negation mark is dropped for display.  Exactly
    equal scores are ordered by the term, so the result never depends on the order
    terms were found in.
    """
    shown: list[tuple[str, float]] = []
    for term, value in ranked:
        if value <= 0.0 or (len(shown) > MAX_TERMS and value < shown[MAX_TERMS - 1][1]):
            break
        if not is_function_term(term):
            shown.append((term, value))
    top = shown[:MAX_TERMS]
    if len(top) > 1 and (
        len({v for _, v in top}) < len(top)
        or (len(shown) > MAX_TERMS and shown[MAX_TERMS][1] == top[-1][1])
    ):
        cut = top[-1][1]
        top = sorted((kv for kv in shown if kv[1] >= cut), key=_score_then_term)
        top = top[:MAX_TERMS]
    return tuple(dict.fromkeys(t.replace(NEGATED, "") for t, _ in top))


def _score_then_term(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def sigmoid(x: float) -> float:
    """The logistic function, as ``scipy.special.expit`` computes it, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    """Inverse of the logistic function."""
    return math.log(p / (1.0 - p))
