"""The batch scorer: the compiled model applied to many texts with sparse products.

Used for evaluation and bulk re-scoring, never for a single request.  It computes the
same sums as ``scorer.CompiledModel.decision`` for a whole batch at once, so its
probabilities may differ from the single-text path in the last bits (summation order).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp

from cyberscan.detector.features import bounded_cache, cue_terms
from cyberscan.detector.scorer import CompiledModel
from cyberscan.detector.verdict import Verdict, sigmoid, top_terms

_NO_COL = -1


class BatchScorer:
    """Column-indexed arrays of a :class:`CompiledModel` for vectorised scoring."""

    def __init__(self, model: CompiledModel) -> None:
        self.model = model
        word = model.word
        self.word_terms = list(word)
        self.word_idf2 = np.array([word[t][0] for t in self.word_terms])
        self.word_w = np.array([word[t][1] for t in self.word_terms])
        # Char n-grams by the model's vocabulary columns.
        self.char_idf2 = np.asarray(model.char_idf2)
        self.char_w = np.asarray(model.char_w)
        word_col = {t: j for j, t in enumerate(self.word_terms)}
        # Word n-gram lookup by integer code: every word that occurs in a vocabulary
        # n-gram gets an id, and "a b c" is found as (id(a) * m + id(b)) * m + id(c).
        split = [(t.split(" "), j) for t, j in word_col.items() if " " in t]
        pair_words: dict[str, int] = {}
        for parts, _ in split:
            for w in parts:
                pair_words.setdefault(w, len(pair_words))
        m = max(len(pair_words), 1)
        self.n_pair_words = m
        self.ngram_codes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for size in range(2, model.max_n + 1):
            found = [(parts, j) for parts, j in split if len(parts) == size]
            codes = np.zeros(len(found), dtype=np.int64)
            for i, (parts, _) in enumerate(found):
                code = 0
                for w in parts:
                    code = code * m + pair_words[w]
                codes[i] = code
            order = np.argsort(codes)
            cols = np.array([j for _, j in found], dtype=np.int64)
            self.ngram_codes[size] = (codes[order], cols[order])
        token_info = model.token_info

        @bounded_cache(200_000)
        def token_cols(token: str) -> tuple[int, int, tuple[int, ...]]:
            """Per-token column ids: unigram column, n-gram word id, char columns."""
            return (
                word_col.get(token, _NO_COL),
                pair_words.get(token, _NO_COL),
                tuple(array("i", token_info(token)[2])),
            )

        self.token_cols = token_cols

    def score(self, texts: Sequence[str], version: str) -> list[Verdict]:
        """Score many texts; same verdicts as the single-text scorer on each."""
        n = len(texts)
        if n == 0:
            return []
        model = self.model
        token_lists = list(map(model.tokens, texts))
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        n_flat = int(lengths.sum())
        if n_flat == 0:
            p = sigmoid(model.intercept)
            return [Verdict(p, version, ()) for _ in range(n)]
        flat = list(chain.from_iterable(token_lists))
        distinct = list(dict.fromkeys(flat))
        n_distinct = len(distinct)
        token_id = dict(zip(distinct, range(n_distinct), strict=True))
        ids = np.fromiter(map(token_id.__getitem__, flat), dtype=np.int64, count=n_flat)
        text_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
        cols = list(map(self.token_cols, distinct))
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
        word_sq = np.bincount(row[has], u_tf * u_tf * self.word_idf2[u_col], n)
        word_dot = np.bincount(row[has], u_tf * self.word_w[u_col], n)

        # Word n-grams within each text, looked up by integer code.
        ng_row, ng_col, ng_pos = [], [], []
        for size, (codes, code_cols) in self.ngram_codes.items():
            if n_flat < size or not len(codes):
                continue
            span = n_flat - size + 1
            ok = text_of[size - 1 :] == text_of[:span]
            code = np.zeros(span, dtype=np.int64)
            for i in range(size):
                part = pair_id[ids[i : i + span]]
                ok &= part >= 0
                code = code * self.n_pair_words + part
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
            n_word = len(self.word_terms)
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
                ngram_row, g_tf * g_tf * self.word_idf2[ngram_col], n
            )
            ngram_weight = g_tf * self.word_w[ngram_col]
            word_dot += np.bincount(ngram_row, ngram_weight, n)

        if model.cues:
            # Targeting and frame terms (few per text; never reasons).
            word_table = model.word
            for i, tokens in enumerate(token_lists):
                for term, k in Counter(cue_terms(tokens)).items():
                    entry = word_table.get(term)
                    if entry is not None:
                        tf = 1.0 + np.log(k)
                        word_sq[i] += tf * tf * entry[0]
                        word_dot[i] += tf * entry[1]

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
            n_char = len(self.char_w)
            grams = sp.csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(n_distinct, n_char)
            )
            token_dot = grams @ self.char_w
            counts = sp.csr_matrix(
                (count.astype(np.float64), tok, np.searchsorted(row, np.arange(n + 1))),
                shape=(n, n_distinct),
            )
            text_grams = (counts @ grams).tocsr()
            c_rows = np.repeat(np.arange(n), np.diff(text_grams.indptr))
            c_tf = 1.0 + np.log(text_grams.data)
            c_col = text_grams.indices
            char_sq = np.bincount(c_rows, c_tf * c_tf * self.char_idf2[c_col], n)
            char_dot = np.bincount(c_rows, c_tf * self.char_w[c_col], n)

        with np.errstate(divide="ignore"):
            word_inv = np.where(word_sq > 0.0, 1.0 / np.sqrt(word_sq), 0.0)
            char_inv = np.where(char_sq > 0.0, 1.0 / np.sqrt(char_sq), 0.0)
        decision = model.intercept + word_dot * word_inv + char_dot * char_inv

        # Reasons: candidates are the distinct words of each text (first occurrence
        # order) and its vocabulary n-grams with a positive weight, as in the scorer.
        word_w = np.zeros(n_distinct)
        word_w[uni_col >= 0] = self.word_w[uni_col[uni_col >= 0]]
        t_score = word_w[tok] * word_inv[row] + token_dot[tok] * char_inv[row]
        cand_row, cand_score, cand_pos, cand_term = row, t_score, first, tok
        if len(ngram_row):
            pos = ngram_weight > 0.0
            cand_row = np.concatenate([row, ngram_row[pos]])
            cand_score = np.concatenate(
                [t_score, ngram_weight[pos] * word_inv[ngram_row[pos]]]
            )
            cand_pos = np.concatenate([first, n_flat + ngram_pos[pos]])
            cand_term = np.concatenate([tok, n_distinct + ngram_col[pos]])
        keep = cand_score > 0.0
        order = np.lexsort((cand_pos[keep], -cand_score[keep], cand_row[keep]))
        cand_row = cand_row[keep][order]
        cand_score = cand_score[keep][order].tolist()
        cand_term = cand_term[keep][order].tolist()
        bounds = np.searchsorted(cand_row, np.arange(n + 1)).tolist()
        word_terms = self.word_terms

        def term_name(j: int) -> str:
            return distinct[j] if j < n_distinct else word_terms[j - n_distinct]

        out = []
        for i, x in enumerate(decision.tolist()):
            a, b = bounds[i], bounds[i + 1]
            ranked = [
                (term_name(j), v)
                for j, v in zip(cand_term[a:b], cand_score[a:b], strict=True)
            ]
            out.append(Verdict(sigmoid(x), version, top_terms(ranked)))
        return out
