"""The single-text scorer: a fitted pipeline compiled into per-term weight tables.

The pipeline is linear after TF-IDF, so every vocabulary entry gets its idf and its
final weight ``idf * transformer_weight * nb_ratio * coef``, and a text's decision is

    intercept + sum_blocks  sum_j tf_j * weight_j / sqrt(sum_j (tf_j * idf_j)^2)

with ``tf_j = 1 + ln(count_j)`` (sublinear tf) over in-vocabulary terms only, which is
what ``TfidfVectorizer(sublinear_tf=True, norm="l2")`` computes.  This module does it in
plain Python for one text (what a request needs); ``batch.py`` does it for many texts
with sparse products.  Both agree with ``pipeline.predict_proba`` to rounding.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from itertools import chain, compress, pairwise
from operator import itemgetter
from typing import Any

from cyberscan.detector.features import (
    CUE_ANALYZERS,
    NEGATION_ANALYZERS,
    WORD_ANALYZERS,
    char_ngrams,
    char_ngrams_neg,
    cue_terms,
    mark_negation,
    text_tokens,
    word_char_grams,
)

# (idf^2, final weight) of a vocabulary term: a term seen n times adds tf^2 * idf^2 to
# its block's squared norm and tf * weight to the dot product, tf = 1 + ln(n).
Entry = tuple[float, float]
_NO_ENTRY: Entry = (0.0, 0.0)


def negation_tokens(text: str) -> list[str]:
    """The tokens a negation-aware pipeline sees: normalised, split, negation marked."""
    return mark_negation(text_tokens(text))


class CompiledModel:
    """Weight tables of a fitted word|char TF-IDF -> NB -> logistic regression pipeline."""

    def __init__(self, pipeline: Any) -> None:
        union = pipeline.named_steps["features"]
        ratios = pipeline.named_steps["nb"].r_
        clf = pipeline.named_steps["clf"]
        coef = clf.coef_[0]
        weights = union.transformer_weights or {}
        blocks: dict[str, dict[str, Entry]] = {}
        offset = 0
        for name, vectorizer in union.transformer_list:
            idf = vectorizer.idf_
            scale = float(weights.get(name, 1.0))
            blocks[name] = {
                term: (
                    float(idf[j]) ** 2,
                    float(idf[j] * scale * ratios[offset + j] * coef[offset + j]),
                )
                for term, j in vectorizer.vocabulary_.items()
            }
            offset += len(vectorizer.vocabulary_)
        if set(blocks) != {"word", "char"} or offset != coef.shape[0]:
            raise ValueError("expected exactly a 'word' and a 'char' TF-IDF block")
        analyzers = {name: v.analyzer for name, v in union.transformer_list}
        if analyzers["char"] not in (char_ngrams, char_ngrams_neg):
            raise ValueError("the char block must use a features.char_ngrams* analyzer")
        if analyzers["word"] not in WORD_ANALYZERS:
            raise ValueError("the word block must use a features.word_ngrams* analyzer")
        negation = {a.__name__ in NEGATION_ANALYZERS for a in analyzers.values()}
        if len(negation) != 1:
            raise ValueError("the word and char blocks must agree on negation marking")
        self.negation = negation.pop()
        self.tokens: Callable[[str], list[str]] = (
            negation_tokens if self.negation else text_tokens
        )
        self.max_n = WORD_ANALYZERS[analyzers["word"]]
        # Targeting and frame terms (features.cue_terms) in the word block.
        self.cues = analyzers["word"].__name__ in CUE_ANALYZERS
        self.intercept = float(clf.intercept_[0])
        self.word = blocks["word"]
        self.char = blocks["char"]
        word, char = self.word, self.char

        @lru_cache(maxsize=200_000)
        def token_info(
            token: str,
        ) -> tuple[float, float, tuple[str, ...], float, float]:
            """Unigram (idf^2, weight), the token's in-vocabulary char n-grams and
            their (idf^2, weight) sums as if each occurred once."""
            uni_idf2, uni_w = word.get(token, _NO_ENTRY)
            grams = tuple(g for g in word_char_grams(token) if g in char)
            return (
                uni_idf2,
                uni_w,
                grams,
                sum(char[g][0] for g in grams),
                sum(char[g][1] for g in grams),
            )

        self.token_info = token_info

    def decision(self, text: str) -> tuple[float, list[tuple[str, float]]]:
        """Return the decision value and every candidate reason with its contribution."""
        tokens = self.tokens(text)
        if not tokens:
            return self.intercept, []
        # Per-token sums assume every term occurs once in the text; terms that occur
        # k > 1 times are corrected to tf = 1 + ln(k) afterwards (exactly sublinear tf).
        uni_idf2s, uni_ws, gramss, token_sqs, token_dots = zip(
            *map(self.token_info, tokens), strict=True
        )
        word_sq = sum(uni_idf2s, 0.0)
        word_dot = sum(uni_ws, 0.0)
        char_sq = sum(token_sqs, 0.0)
        char_dot = sum(token_dots, 0.0)
        n_tokens = len(tokens)
        word_table = self.word
        log = math.log

        ngram_hits: list[tuple[float, str]] = []
        ngrams: list[str] = []
        if n_tokens > 1:
            if len(set(tokens)) != n_tokens:
                for token, k in Counter(tokens).items():
                    entry = word_table.get(token) if k > 1 else None
                    if entry is not None:
                        tf = 1.0 + log(k)
                        word_sq += (tf * tf - k) * entry[0]
                        word_dot += (tf - k) * entry[1]
            # Bigrams and trigrams in one pass: they never share a string.
            ngrams = list(map(_SPACE_JOIN, pairwise(tokens)))
            if self.max_n > 2 and n_tokens > 2:
                ngrams += map(
                    _SPACE_JOIN, zip(tokens, tokens[1:], tokens[2:], strict=False)
                )
        if self.cues:
            # Cue terms share no string with n-grams (no space) or tokens ("@", "#").
            ngrams += cue_terms(tokens)
        if ngrams:
            unique_ngrams = set(ngrams)
            hits = list(word_table.keys() & unique_ngrams)
            if hits:
                idf2s, weights = zip(*map(word_table.__getitem__, hits), strict=True)
                if len(unique_ngrams) != len(ngrams):
                    counts = Counter(ngrams)
                    tfs = [1.0 + log(counts[g]) for g in hits]
                    idf2s = [i * (tf * tf) for i, tf in zip(idf2s, tfs, strict=True)]
                    weights = [w * tf for w, tf in zip(weights, tfs, strict=True)]
                word_sq += sum(idf2s, 0.0)
                word_dot += sum(weights, 0.0)
                ngram_hits = list(
                    compress(
                        zip(weights, hits, strict=True), map(_ZERO.__lt__, weights)
                    )
                )
                if self.cues:
                    # A cue term is not a phrase of the text: never a reason itself.
                    ngram_hits = [h for h in ngram_hits if h[1][0] not in _CUE_MARKS]

        if char_sq > 0.0:
            all_grams = list(chain.from_iterable(gramss))
            if len(set(all_grams)) != len(all_grams):
                char_table = self.char
                for gram, k in Counter(all_grams).items():
                    if k > 1:
                        idf2, weight = char_table[gram]
                        tf = 1.0 + log(k)
                        char_sq += (tf * tf - k) * idf2
                        char_dot += (tf - k) * weight

        word_inv = 1.0 / math.sqrt(word_sq) if word_sq > 0.0 else 0.0
        char_inv = 1.0 / math.sqrt(char_sq) if char_sq > 0.0 else 0.0
        decision = self.intercept + word_dot * word_inv + char_dot * char_inv

        # Reasons: a word is credited with its unigram weight plus its char n-grams'
        # weights; a word n-gram with its own weight (a char n-gram shared by two words
        # counts for both: this ranks reasons, it is not part of the score).
        scores = {
            t: v
            for t, w, d in zip(tokens, uni_ws, token_dots, strict=True)
            if (v := w * word_inv + d * char_inv) > 0.0
        }
        for weight, ngram in ngram_hits:
            scores[ngram] = weight * word_inv
        return decision, sorted(scores.items(), key=_second, reverse=True)


_second = itemgetter(1)
_SPACE_JOIN = " ".join
_ZERO = 0.0
_CUE_MARKS = "@#"
