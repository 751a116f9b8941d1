"""Detector: a fast scorer that reproduces the fitted pipeline exactly.

scikit-learn's ``predict_proba`` costs hundreds of microseconds per call in input
validation and sparse-matrix plumbing.  The pipeline is linear after TF-IDF, so the
scorer precomputes, per vocabulary entry, its idf and its final weight
``idf * transformer_weight * nb_ratio * coef`` and evaluates

    decision = intercept + sum_blocks  sum_j tf_j * weight_j / sqrt(sum_j (tf_j * idf_j)^2)

with ``tf_j = 1 + ln(count_j)`` (sublinear tf) over in-vocabulary terms only, which is
what ``TfidfVectorizer(sublinear_tf=True, norm="l2")`` computes.  ``score`` does this in
plain Python per text; ``score_batch`` does it for a whole batch with NumPy/SciPy sparse
products.  Probabilities agree with ``pipeline.predict_proba`` to floating-point
rounding (tested to 1e-9).
"""

from __future__ import annotations

import math
from collections import Counter, _count_elements  # type: ignore[attr-defined]
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cyberscan.detector.artifact import ArtifactError, load_artifact
from cyberscan.detector.features import (
    WORD_ANALYZERS,
    char_ngrams,
    text_tokens,
    word_char_grams,
)

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
        analyzers = {name: v.analyzer for name, v in union.transformer_list}
        if analyzers["char"] is not char_ngrams:
            raise ValueError("the char block must use features.char_ngrams")
        if analyzers["word"] not in WORD_ANALYZERS:
            raise ValueError("the word block must use a features.word_ngrams* analyzer")
        self._max_n = WORD_ANALYZERS[analyzers["word"]]
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

        # Arrays for the vectorised batch path (see score_batch).
        word_terms = list(word)
        self._word_terms = word_terms
        self._word_idf2 = np.array([word[t][0] for t in word_terms])
        self._word_w = np.array([word[t][1] for t in word_terms])
        char_terms = list(char)
        char_col = {g: j for j, g in enumerate(char_terms)}
        self._char_idf2 = np.array([char[g][0] for g in char_terms])
        self._char_w = np.array([char[g][1] for g in char_terms])
        word_col = {t: j for j, t in enumerate(word_terms)}
        # Word n-gram lookup by integer code: every word that occurs in a vocabulary
        # n-gram gets an id, and "a b c" is found as (id(a) * m + id(b)) * m + id(c).
        split = [(t.split(" "), j) for t, j in word_col.items() if " " in t]
        pair_words: dict[str, int] = {}
        for parts, _ in split:
            for w in parts:
                pair_words.setdefault(w, len(pair_words))
        m = max(len(pair_words), 1)
        self._n_pair_words = m
        self._ngram_codes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for size in range(2, self._max_n + 1):
            found = [(parts, j) for parts, j in split if len(parts) == size]
            codes = np.zeros(len(found), dtype=np.int64)
            for parts_i, (parts, _) in enumerate(found):
                code = 0
                for w in parts:
                    code = code * m + pair_words[w]
                codes[parts_i] = code
            order = np.argsort(codes)
            cols = np.array([j for _, j in found], dtype=np.int64)
            self._ngram_codes[size] = (codes[order], cols[order])
        no_col = -1

        @lru_cache(maxsize=200_000)
        def token_cols(token: str) -> tuple[int, int, tuple[int, ...]]:
            """Per-token column ids: unigram column, n-gram word id, char columns."""
            return (
                word_col.get(token, no_col),
                pair_words.get(token, no_col),
                tuple(char_col[g] for g in token_info(token)[2]),
            )

        self._token_cols = token_cols

    def _decision(self, text: str) -> tuple[float, tuple[str, ...]]:
        tokens = text_tokens(text)
        if not tokens:
            return self._intercept, ()
        # Per-token sums assume every term occurs once in the text; terms that occur
        # k > 1 times are corrected to tf = 1 + ln(k) afterwards (exactly sublinear tf).
        uni_idf2s, uni_ws, gramss, token_sqs, token_dots = zip(
            *map(self._token_info, tokens), strict=True
        )
        word_sq = sum(uni_idf2s, 0.0)
        word_dot = sum(uni_ws, 0.0)
        char_sq = sum(token_sqs, 0.0)
        char_dot = sum(token_dots, 0.0)
        n_tokens = len(tokens)

        ngram_hits: list[tuple[float, str]] = []
        if n_tokens > 1:
            word_table = self._word
            log = math.log
            if len(set(tokens)) != n_tokens:
                token_counts: dict[str, int] = {}
                _count_elements(token_counts, tokens)
                for token in compress(
                    token_counts, map(_ONE.__lt__, token_counts.values())
                ):
                    entry = word_table.get(token)
                    if entry is not None:
                        k = token_counts[token]
                        tf = 1.0 + log(k)
                        word_sq += (tf * tf - k) * entry[0]
                        word_dot += (tf - k) * entry[1]
            word_keys = self._word_keys
            for size in range(2, min(self._max_n, n_tokens) + 1):
                if size == 2:
                    ngrams = list(map(_SPACE_JOIN, pairwise(tokens)))
                else:
                    ngrams = list(
                        map(
                            _SPACE_JOIN,
                            zip(*(tokens[i:] for i in range(size)), strict=False),
                        )
                    )
                unique_ngrams = set(ngrams)
                hits = list(word_keys & unique_ngrams)
                if not hits:
                    continue
                idf2s, weights = zip(*map(word_table.__getitem__, hits), strict=True)
                if len(unique_ngrams) != len(ngrams):
                    ngram_counts = Counter(ngrams)
                    tfs = [1.0 + log(ngram_counts[g]) for g in hits]
                    idf2s = [i * (tf * tf) for i, tf in zip(idf2s, tfs, strict=True)]
                    weights = [w * tf for w, tf in zip(weights, tfs, strict=True)]
                word_sq += sum(idf2s, 0.0)
                word_dot += sum(weights, 0.0)
                ngram_hits += compress(
                    zip(weights, hits, strict=True), map(_ZERO.__lt__, weights)
                )

        if char_sq > 0.0:
            # Counter's C loop without Counter's per-call type checks (~1 us a text).
            gram_counts: dict[str, int] = {}
            _count_elements(gram_counts, chain.from_iterable(gramss))
            if len(gram_counts) != sum(map(len, gramss)):
                char_table = self._char
                log = math.log
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
        # weights; a word n-gram with its own weight (a char n-gram shared by two words
        # counts for both: this ranks reasons, it is not part of the score).
        scores = {
            t: w * word_inv + d * char_inv
            for t, w, d in zip(tokens, uni_ws, token_dots, strict=True)
        }
        for weight, ngram in ngram_hits:
            scores[ngram] = weight * word_inv
        return decision, _top_terms(sorted(scores.items(), key=_second, reverse=True))

    def probability(self, text: str) -> float:
        """Return only the probability that ``text`` is bullying."""
        return _sigmoid(self._decision(text)[0])

    def score(self, text: str) -> Verdict:
        """Score one text."""
        decision, terms = self._decision(text)
        return Verdict(_sigmoid(decision), self.version, terms)

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        """Score many texts; same verdicts as calling :meth:`score` on each.

        The TF-IDF sums are computed for the whole batch at once with sparse matrix
        products instead of text by text, so probabilities may differ from
        :meth:`score` in the last bits (summation order; tested to 1e-12).
        """
        n = len(texts)
        if n == 0:
            return []
        version = self.version
        token_lists = list(map(text_tokens, texts))
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        n_flat = int(lengths.sum())
        if n_flat == 0:
            p = _sigmoid(self._intercept)
            return [Verdict(p, version, ()) for _ in range(n)]
        flat = list(chain.from_iterable(token_lists))
        distinct = list(dict.fromkeys(flat))
        n_distinct = len(distinct)
        token_id = dict(zip(distinct, range(n_distinct), strict=True))
        ids = np.fromiter(map(token_id.__getitem__, flat), dtype=np.int64, count=n_flat)
        text_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
        cols = list(map(self._token_cols, distinct))
        uni_col = np.fromiter((c[0] for c in cols), dtype=np.int64, count=n_distinct)
        pair_id = np.fromiter((c[1] for c in cols), dtype=np.int64, count=n_distinct)
        gram_cols = [c[2] for c in cols]

        # Distinct (text, token) pairs with their counts and first position.
        key = text_of * n_distinct + ids
        pair_key, first, count = np.unique(key, return_index=True, return_counts=True)
        row = pair_key // n_distinct
        tok = pair_key - row * n_distinct
        tf = 1.0 + np.log(count)

        ucol = uni_col[tok]
        has = ucol >= 0
        u_tf = tf[has]
        u_col = ucol[has]
        word_sq = np.bincount(row[has], u_tf * u_tf * self._word_idf2[u_col], n)
        word_dot = np.bincount(row[has], u_tf * self._word_w[u_col], n)

        # Word n-grams within each text, looked up by integer code.
        ng_row, ng_col, ng_pos = [], [], []
        for size, (codes, code_cols) in self._ngram_codes.items():
            if n_flat < size or not len(codes):
                continue
            span = n_flat - size + 1
            ok = text_of[size - 1 :] == text_of[:span]
            code = np.zeros(span, dtype=np.int64)
            for i in range(size):
                part = pair_id[ids[i : i + span]]
                ok &= part >= 0
                code = code * self._n_pair_words + part
            where = np.flatnonzero(ok)
            code = code[where]
            at = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
            hit = codes[at] == code
            ng_row.append(text_of[where[hit]])
            ng_col.append(code_cols[at[hit]])
            ng_pos.append(where[hit])
        ngram_row = ngram_col = ngram_pos = np.empty(0, dtype=np.int64)
        ngram_weight = np.empty(0)
        if ng_row and sum(map(len, ng_row)):
            n_word = len(self._word_terms)
            g_key, g_first, g_count = np.unique(
                np.concatenate(ng_row) * n_word + np.concatenate(ng_col),
                return_index=True,
                return_counts=True,
            )
            ngram_row = g_key // n_word
            ngram_col = g_key - ngram_row * n_word
            ngram_pos = np.concatenate(ng_pos)[g_first]
            g_tf = 1.0 + np.log(g_count)
            word_sq += np.bincount(
                ngram_row, g_tf * g_tf * self._word_idf2[ngram_col], n
            )
            ngram_weight = g_tf * self._word_w[ngram_col]
            word_dot += np.bincount(ngram_row, ngram_weight, n)

        # Char n-grams: (text x token counts) @ (token x n-gram counts).
        gram_len = np.fromiter(map(len, gram_cols), dtype=np.int64, count=n_distinct)
        char_sq = np.zeros(n)
        char_dot = np.zeros(n)
        token_dot = np.zeros(n_distinct)
        if gram_len.any():
            indptr = np.zeros(n_distinct + 1, dtype=np.int64)
            np.cumsum(gram_len, out=indptr[1:])
            indices = np.fromiter(
                chain.from_iterable(gram_cols), dtype=np.int64, count=int(indptr[-1])
            )
            n_char = len(self._char_w)
            grams = sp.csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(n_distinct, n_char)
            )
            token_dot = grams @ self._char_w
            counts = sp.csr_matrix(
                (count.astype(np.float64), tok, np.searchsorted(row, np.arange(n + 1))),
                shape=(n, n_distinct),
            )
            text_grams = (counts @ grams).tocsr()
            c_rows = np.repeat(np.arange(n), np.diff(text_grams.indptr))
            c_tf = 1.0 + np.log(text_grams.data)
            c_col = text_grams.indices
            char_sq = np.bincount(c_rows, c_tf * c_tf * self._char_idf2[c_col], n)
            char_dot = np.bincount(c_rows, c_tf * self._char_w[c_col], n)

        with np.errstate(divide="ignore"):
            word_inv = np.where(word_sq > 0.0, 1.0 / np.sqrt(word_sq), 0.0)
            char_inv = np.where(char_sq > 0.0, 1.0 / np.sqrt(char_sq), 0.0)
        decision = self._intercept + word_dot * word_inv + char_dot * char_inv

        # Terms: candidates are the distinct words of each text (first occurrence
        # order) and its vocabulary n-grams with a positive weight, as in _decision.
        word_w = np.zeros(n_distinct)
        word_w[uni_col >= 0] = self._word_w[uni_col[uni_col >= 0]]
        t_score = word_w[tok] * word_inv[row] + token_dot[tok] * char_inv[row]
        cand_row = row
        cand_score = t_score
        cand_pos = first
        cand_term = tok
        if len(ngram_row):
            pos = ngram_weight > 0.0
            cand_row = np.concatenate([row, ngram_row[pos]])
            cand_score = np.concatenate(
                [t_score, ngram_weight[pos] * word_inv[ngram_row[pos]]]
            )
            cand_pos = np.concatenate([first, n_flat + ngram_pos[pos]])
            cand_term = np.concatenate([tok, n_distinct + ngram_col[pos]])
        keep = cand_score > 0.0
        cand_row = cand_row[keep]
        cand_score = cand_score[keep]
        order = np.lexsort((cand_pos[keep], -cand_score, cand_row))
        cand_row = cand_row[order]
        cand_score = cand_score[order]
        cand_term = cand_term[keep][order]
        starts = np.searchsorted(cand_row, np.arange(n + 1))
        rank = np.arange(len(cand_row)) - starts[cand_row]
        # Keep each text's first MAX_TERMS plus anything tied with its last one.
        last = np.full(n, -np.inf)
        full = np.diff(starts) >= MAX_TERMS
        last[full] = cand_score[starts[:-1][full] + MAX_TERMS - 1]
        top = (rank < MAX_TERMS) | (cand_score >= last[cand_row])
        top_rows = cand_row[top]
        top_scores = cand_score[top].tolist()
        top_terms = cand_term[top].tolist()
        bounds = np.searchsorted(top_rows, np.arange(n + 1)).tolist()
        word_terms = self._word_terms

        def term_name(j: int) -> str:
            return distinct[j] if j < n_distinct else word_terms[j - n_distinct]

        out = []
        for i, x in enumerate(decision.tolist()):
            a, b = bounds[i], bounds[i + 1]
            ranked = [
                (term_name(j), v)
                for j, v in zip(top_terms[a:b], top_scores[a:b], strict=True)
            ]
            out.append(Verdict(_sigmoid(x), version, _top_terms(ranked)))
        return out


def _top_terms(ranked: list[tuple[str, float]]) -> tuple[str, ...]:
    """Return the up to MAX_TERMS terms with a positive score from ``ranked``.

    ``ranked`` is sorted by score, highest first.  Exactly equal scores are ordered by
    the term itself, so the result never depends on the order terms were found in.
    """
    top = ranked[:MAX_TERMS]
    while top and top[-1][1] <= 0.0:
        top.pop()
    if len(top) > 1 or len(ranked) > MAX_TERMS:
        boundary_tie = (
            len(top) == MAX_TERMS
            and len(ranked) > MAX_TERMS
            and ranked[MAX_TERMS][1] == top[-1][1]
        )
        if boundary_tie or len({v for _, v in top}) < len(top):
            cut = top[-1][1]
            top = sorted((kv for kv in ranked if kv[1] >= cut), key=_score_then_term)[
                :MAX_TERMS
            ]
    return tuple(t for t, _ in top)


def _score_then_term(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


_second = itemgetter(1)
_SPACE_JOIN = " ".join
_ONE = 1
_ZERO = 0.0


def _sigmoid(x: float) -> float:
    # Matches scipy.special.expit (what LogisticRegression.predict_proba uses) without
    # overflowing for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
