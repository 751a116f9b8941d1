"""Detector: a fast pure-Python scorer that reproduces the fitted pipeline exactly.

scikit-learn's ``predict_proba`` costs hundreds of microseconds per call in input
validation and sparse-matrix plumbing.  The pipeline is linear after TF-IDF, so the
scorer precomputes, per vocabulary entry, its idf and its final weight
``idf * transformer_weight * nb_ratio * coef`` and evaluates

    decision = intercept + sum_blocks  sum_j tf_j * weight_j / sqrt(sum_j (tf_j * idf_j)^2)

with ``tf_j = 1 + ln(count_j)`` (sublinear tf) over in-vocabulary terms only, which is
what ``TfidfVectorizer(sublinear_tf=True, norm="l2")`` computes.  Probabilities agree
with ``pipeline.predict_proba`` to floating-point rounding (tested to 1e-9).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cyberscan.detector.artifact import ArtifactError, load_artifact
from cyberscan.detector.features import normalize_text, word_char_grams, word_tokens

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
            self._compile(pipeline)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"Model {self.version} is not a pipeline this detector understands: {exc}"
            ) from exc

    @classmethod
    def from_path(cls, path: str | Path) -> Detector:
        """Load, verify and compile the artifact at ``path``."""
        pipeline, card = load_artifact(path)
        return cls(pipeline, card)

    def _compile(self, pipeline: Any) -> None:
        union = pipeline.named_steps["features"]
        ratios = pipeline.named_steps["nb"].r_
        clf = pipeline.named_steps["clf"]
        coef = clf.coef_[0]
        weights = union.transformer_weights or {}
        blocks: dict[str, dict[str, tuple[float, float]]] = {}
        offset = 0
        for name, vectorizer in union.transformer_list:
            idf = vectorizer.idf_
            scale = float(weights.get(name, 1.0))
            vocab = vectorizer.vocabulary_
            table: dict[str, tuple[float, float]] = {}
            for term, j in vocab.items():
                k = offset + j
                table[term] = (float(idf[j]), float(idf[j] * scale * ratios[k] * coef[k]))
            blocks[name] = table
            offset += len(vocab)
        if set(blocks) != {"word", "char"} or offset != coef.shape[0]:
            raise ValueError("expected exactly a 'word' and a 'char' TF-IDF block")
        self._intercept = float(clf.intercept_[0])
        self._word = blocks["word"]
        char = blocks["char"]

        @lru_cache(maxsize=200_000)
        def char_terms(word: str) -> tuple[str, ...]:
            return tuple(g for g in word_char_grams(word) if g in char)

        self._char = char
        self._char_terms = char_terms

    def _decision(self, text: str) -> tuple[float, list[str]]:
        normalized = normalize_text(text)
        tokens = word_tokens(normalized)
        word_table = self._word
        char_table = self._char
        char_terms = self._char_terms

        counts: dict[str, int] = {}
        for term in tokens:
            counts[term] = counts.get(term, 0) + 1
        for a, b in zip(tokens, tokens[1:]):
            term = a + " " + b
            counts[term] = counts.get(term, 0) + 1
        contrib: dict[str, float] = {}
        sq = 0.0
        dot = 0.0
        for term, n in counts.items():
            entry = word_table.get(term)
            if entry is not None:
                idf, weight = entry
                tf = 1.0 + math.log(n) if n > 1 else 1.0
                sq += (tf * idf) ** 2
                dot += tf * weight
                contrib[term] = tf * weight
        word_norm = math.sqrt(sq)
        decision = self._intercept + (dot / word_norm if sq > 0.0 else 0.0)

        per_word = {w: char_terms(w) for w in tokens}
        gram_counts: dict[str, int] = {}
        for w in tokens:
            for g in per_word[w]:
                gram_counts[g] = gram_counts.get(g, 0) + 1
        sq = 0.0
        dot = 0.0
        gram_contrib: dict[str, float] = {}
        for g, n in gram_counts.items():
            idf, weight = char_table[g]
            tf = 1.0 + math.log(n) if n > 1 else 1.0
            sq += (tf * idf) ** 2
            dot += tf * weight
            gram_contrib[g] = tf * weight / n
        if sq > 0.0:
            char_norm = math.sqrt(sq)
            decision += dot / char_norm
        return decision, self._top_terms(
            counts, contrib, word_norm, per_word, gram_contrib, sq
        )

    @staticmethod
    def _top_terms(
        counts: dict[str, int],
        contrib: dict[str, float],
        word_norm: float,
        per_word: dict[str, tuple[str, ...]],
        gram_contrib: dict[str, float],
        char_sq: float,
    ) -> list[str]:
        """Rank words and bigrams by how much they raised the decision value.

        A word's share is its own unigram weight plus an even split of every character
        n-gram it contains; bigrams count on their own.
        """
        scores: dict[str, float] = {}
        inv_word = 1.0 / word_norm if word_norm > 0.0 else 0.0
        inv_char = 1.0 / math.sqrt(char_sq) if char_sq > 0.0 else 0.0
        for w, grams in per_word.items():
            n_occ = counts[w]
            value = contrib.get(w, 0.0) * inv_word
            value += n_occ * inv_char * sum(gram_contrib[g] for g in grams)
            scores[w] = value
        for term, value in contrib.items():
            if " " in term:
                scores[term] = value * inv_word
        ranked = sorted(
            (item for item in scores.items() if item[1] > 0.0),
            key=lambda item: item[1],
            reverse=True,
        )
        return [term for term, _ in ranked[:MAX_TERMS]]

    def probability(self, text: str) -> float:
        """Return only the probability that ``text`` is bullying."""
        return _sigmoid(self._decision(text)[0])

    def score(self, text: str) -> Verdict:
        """Score one text."""
        decision, terms = self._decision(text)
        return Verdict(_sigmoid(decision), self.version, tuple(terms))

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        """Score many texts; same results as calling :meth:`score` on each."""
        version = self.version
        out = []
        for text in texts:
            decision, terms = self._decision(text)
            out.append(Verdict(_sigmoid(decision), version, tuple(terms)))
        return out


def _sigmoid(x: float) -> float:
    # Matches scipy.special.expit (what LogisticRegression.predict_proba uses) without
    # overflowing for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
