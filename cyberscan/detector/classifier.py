"""Detector: a verified artifact compiled into a fast scorer that equals scikit-learn.

``score`` (one text, what a request needs) runs the plain-Python scorer of
``scorer.py``; ``score_batch`` runs the vectorised one of ``batch.py`` for a single
logistic regression and the single-text scorer for gated experts (``mixture.py``).  Both give the
probabilities of ``pipeline.predict_proba`` to floating-point rounding (tested to 1e-9).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from cyberscan.detector.artifact import ArtifactError, load_artifact, sha256_file
from cyberscan.detector.batch import BatchScorer
from cyberscan.detector.features import JOINED_KNOWN_FILE, joined_words_file
from cyberscan.detector.scorer import CompiledModel
from cyberscan.detector.verdict import MAX_TERMS, Verdict, sigmoid, top_terms

__all__ = ["MAX_TERMS", "Detector", "Verdict", "joined_word_digests"]


@cache
def joined_word_digests() -> dict[str, str]:
    """The sha256 of each word list ``features.split_joined`` reads, under the key a
    model card records it by (hashed once a process)."""
    return {
        "joined_words_sha256": sha256_file(joined_words_file()),
        "joined_known_sha256": sha256_file(JOINED_KNOWN_FILE),
    }


class Detector:
    """Scores texts with a verified artifact; build with :meth:`from_path`."""

    version: str
    threshold: float

    def __init__(self, pipeline: Any, card: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.card = card
        self.version = str(card.get("version", "unknown"))
        self.threshold = float(card.get("threshold", 0.5))
        try:
            self._model = CompiledModel(pipeline)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"Model {self.version} is not a pipeline this detector understands: {exc}"
            ) from exc
        # A model that splits words run together was measured with its word lists;
        # others would change its scores silently.
        training = card.get("training") or {}
        if self._model.split:
            for key, digest in joined_word_digests().items():
                expected = training.get(key)
                if expected and expected != digest:
                    raise ArtifactError(
                        f"Model {self.version} was trained with another word list than"
                        f" the installed one ({key} {expected[:12]}…); restore that"
                        " file or promote another version"
                    )
        self._batch: BatchScorer | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Detector:
        """Load, verify and compile the artifact at ``path``."""
        pipeline, card = load_artifact(path)
        return cls(pipeline, card)

    def probability(self, text: str) -> float:
        """Return only the probability that ``text`` is bullying."""
        return sigmoid(self._model.decision(text)[0])

    def score(self, text: str) -> Verdict:
        """Score one text."""
        decision, ranked = self._model.decision(text)
        return Verdict(sigmoid(decision), self.version, top_terms(ranked))

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        """Score many texts at once; the same verdicts as :meth:`score` on each."""
        if self._model.slow is not None:
            # Gated experts: the single-text scorer, which routes each text.
            return [self.score(text) for text in texts]
        if self._batch is None:
            self._batch = BatchScorer(self._model)
        return self._batch.score(texts, self.version)
