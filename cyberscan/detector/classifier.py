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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, pairwise
from operator import itemgetter
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
            table: dict[str, tuple[float, float]] = {}
            for term, j in vectorizer.vocabulary_.items():
                k = offset + j
                # (idf^2, final weight): a term seen n times adds tf^2*idf^2 to the
                # squared norm and tf*weight to the dot product, tf = 1 + ln(n).
                table[term] = (
                    float(idf[j]) ** 2,
                    float(idf[j] * scale * ratios[k] * coef[k]),
                )
            blocks[name] = table
            offset += len(vectorizer.vocabulary_)
        if set(blocks) != {"word", "char"} or offset != coef.shape[0]:
            raise ValueError("expected exactly a 'word' and a 'char' TF-IDF block")
        self._intercept = float(clf.intercept_[0])
        word = blocks["word"]
        char = blocks["char"]
        self._word = word
        self._word_keys = word.keys()
        self._char = char
        no_entry = (0.0, 0.0)

        @lru_cache(maxsize=200_000)
        def token_info(
            token: str,
        ) -> tuple[float, float, tuple[str, ...], float, float]:
            """Per-token constants: unigram (idf^2, weight) and in-vocabulary char
            n-grams with their (idf^2, weight) sums as if each occurred once."""
            uni_idf2, uni_w = word.get(token, no_entry)
            grams = tuple(g for g in word_char_grams(token) if g in char)
            return (
                uni_idf2,
                uni_w,
                grams,
                sum(char[g][0] for g in grams),
                sum(char[g][1] for g in grams),
            )

        self._token_info = token_info

    def _decision(self, text: str) -> tuple[float, tuple[str, ...]]:
        tokens = word_tokens(normalize_text(text))
        if not tokens:
            return self._intercept, ()
        log = math.log
        token_info = self._token_info
        infos = [token_info(t) for t in tokens]

        # Per-token sums assume every term occurs once in the text; terms that occur
        # k > 1 times are corrected to tf = 1 + ln(k) afterwards (exactly sublinear tf).
        word_sq = 0.0
        word_dot = 0.0
        char_sq = 0.0
        char_dot = 0.0
        grams: list[str] = []
        for uni_idf2, uni_w, token_grams, token_sq, token_dot in infos:
            word_sq += uni_idf2
            word_dot += uni_w
            grams += token_grams
            char_sq += token_sq
            char_dot += token_dot

        unique = set(tokens)
        if len(unique) != len(tokens):
            word_table = self._word
            for token, k in Counter(tokens).items():
                if k > 1 and token in word_table:
                    idf2, weight = word_table[token]
                    tf = 1.0 + log(k)
                    word_sq += (tf * tf - k) * idf2
                    word_dot += (tf - k) * weight

        bigram_hits: list[tuple[float, str]] = []
        if len(tokens) > 1:
            word_table = self._word
            bigrams = [a + " " + b for a, b in pairwise(tokens)]
            if len(set(bigrams)) == len(bigrams):
                counted = [(b, 1) for b in self._word_keys & set(bigrams)]
            else:
                counted = [
                    (b, k) for b, k in Counter(bigrams).items() if b in word_table
                ]
            for bigram, k in counted:
                idf2, weight = word_table[bigram]
                if k > 1:
                    tf = 1.0 + log(k)
                    idf2 *= tf * tf
                    weight *= tf
                word_sq += idf2
                word_dot += weight
                if weight > 0.0:
                    bigram_hits.append((weight, bigram))

        if grams:
            gram_counts = Counter(grams)
            if len(gram_counts) != len(grams):
                char_table = self._char
                for gram in compress(
                    gram_counts, map(_ONE.__lt__, gram_counts.values())
                ):
                    k = gram_counts[gram]
                    idf2, weight = char_table[gram]
                    tf = 1.0 + log(k)
                    char_sq += (tf * tf - k) * idf2
                    char_dot += (tf - k) * weight

        word_inv = 1.0 / math.sqrt(word_sq) if word_sq > 0.0 else 0.0
        char_inv = 1.0 / math.sqrt(char_sq) if char_sq > 0.0 else 0.0
        decision = self._intercept + word_dot * word_inv + char_dot * char_inv

        # Explanation: a word is credited with its unigram weight plus its char n-grams'
        # weights; a bigram with its own weight (an n-gram shared by two words counts
        # for both: this ranks reasons, it is not part of the score).
        scores = {
            t: info[1] * word_inv + info[4] * char_inv
            for t, info in zip(tokens, infos, strict=True)
        }
        for weight, bigram in bigram_hits:
            scores[bigram] = weight * word_inv
        ranked = sorted(scores.items(), key=_second, reverse=True)[:MAX_TERMS]
        return decision, tuple(t for t, v in ranked if v > 0.0)

    def probability(self, text: str) -> float:
        """Return only the probability that ``text`` is bullying."""
        return _sigmoid(self._decision(text)[0])

    def score(self, text: str) -> Verdict:
        """Score one text."""
        decision, terms = self._decision(text)
        return Verdict(_sigmoid(decision), self.version, terms)

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        """Score many texts; same results as calling :meth:`score` on each."""
        version = self.version
        out = []
        for text in texts:
            decision, terms = self._decision(text)
            out.append(Verdict(_sigmoid(decision), version, terms))
        return out


_second = itemgetter(1)
_ONE = 1


def _sigmoid(x: float) -> float:
    # Matches scipy.special.expit (what LogisticRegression.predict_proba uses) without
    # overflowing for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
