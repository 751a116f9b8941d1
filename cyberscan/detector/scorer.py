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
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, pairwise
from operator import itemgetter
from typing import Any

import numpy as np

from cyberscan.detector.features import (
    CUE_ANALYZERS,
    LEET_ANALYZERS,
    NEGATION_ANALYZERS,
    NUMBER_ANALYZERS,
    SPLIT_ANALYZERS,
    WIDE_NEGATION_ANALYZERS,
    WORD_ANALYZERS,
    bounded_cache,
    char_ngrams,
    char_ngrams_neg,
    char_ngrams_neg_split,
    char_ngrams_neg_split_leet,
    char_ngrams_wneg,
    char_ngrams_wneg_num,
    char_ngrams_wneg_split,
    char_ngrams_wneg_split_leet,
    char_ngrams_wneg_split_leet_num,
    char_ngrams_wneg_split_num,
    cue_terms,
    joined_word_costs,
    leet_words,
    mark_negation,
    mark_negation_wide,
    raw_char_ngrams,
    raw_view,
    read_leet,
    read_numbers,
    split_joined,
    text_has_user_tag,
    text_tokens,
    warm_text_tokens,
    word_char_grams,
)
from cyberscan.detector.mixture import GatedExperts, mix_one
from cyberscan.detector.pipeline import trailing_widths

# The most words a model warms its per-word caches with: well under the size of
# either (``token_info``'s 200,000, ``features.text_tokens``' 65,536 chunks).
WARM_WORDS = 30_000

# (idf^2, final weight, route weight) of a word term: a term seen n times adds
# tf^2 * idf^2 to its block's squared norm, tf * weight to the dot product and tf *
# route to the gated router's (0.0 without a router), tf = 1 + ln(n).
WordEntry = tuple[float, float, float]
_NO_ENTRY: WordEntry = (0.0, 0.0, 0.0)


def word_ngram_strings(tokens: list[str], max_n: int) -> list[str]:
    """The word bigrams (and trigrams when ``max_n > 2``) of 2+ tokens, with repeats;
    bigrams and trigrams never share a string."""
    ngrams = list(map(_SPACE_JOIN, pairwise(tokens)))
    if max_n > 2 and len(tokens) > 2:
        ngrams += map(_SPACE_JOIN, zip(tokens, tokens[1:], tokens[2:], strict=False))
    return ngrams


def negation_tokens(text: str) -> list[str]:
    """The tokens a negation-aware pipeline sees: normalised, split, negation marked."""
    return mark_negation(text_tokens(text))


def split_negation_tokens(text: str) -> list[str]:
    """The tokens a pipeline that splits joined words sees: normalised, split into
    tokens, words run together split (``features.split_joined``), negation marked."""
    return mark_negation(split_joined(text_tokens(text)))


def leet_negation_tokens(text: str) -> list[str]:
    """The tokens a pipeline that reads digits inside words sees: as
    :func:`split_negation_tokens`, with those words read first (``features.read_leet``)."""
    return mark_negation(split_joined(read_leet(text_tokens(text))))


# The same three with wide negation marking (``features.mark_negation_wide``, v48).
def wide_negation_tokens(text: str) -> list[str]:
    """:func:`negation_tokens` with wide negation marking."""
    return mark_negation_wide(text_tokens(text))


def wide_split_negation_tokens(text: str) -> list[str]:
    """:func:`split_negation_tokens` with wide negation marking."""
    return mark_negation_wide(split_joined(text_tokens(text)))


def wide_leet_negation_tokens(text: str) -> list[str]:
    """:func:`leet_negation_tokens` with wide negation marking."""
    return mark_negation_wide(split_joined(read_leet(text_tokens(text))))


# The three wide ones with numbers read (``features.read_numbers``, v53).
def number_negation_tokens(text: str) -> list[str]:
    """:func:`wide_negation_tokens` with numbers read."""
    return mark_negation_wide(read_numbers(text_tokens(text)))


def number_split_negation_tokens(text: str) -> list[str]:
    """:func:`wide_split_negation_tokens` with numbers read."""
    return mark_negation_wide(split_joined(read_numbers(text_tokens(text))))


def number_leet_negation_tokens(text: str) -> list[str]:
    """:func:`wide_leet_negation_tokens` with numbers read."""
    return mark_negation_wide(split_joined(read_numbers(read_leet(text_tokens(text)))))


# (negation marking, splitting, reading digits, wide, numbers) -> the tokeniser of
# the scorers.
_TOKENISERS: dict[tuple[bool, bool, bool, bool, bool], Callable[[str], list[str]]] = {
    (False, False, False, False, False): text_tokens,
    (True, False, False, False, False): negation_tokens,
    (True, True, False, False, False): split_negation_tokens,
    (True, True, True, False, False): leet_negation_tokens,
    (True, False, False, True, False): wide_negation_tokens,
    (True, True, False, True, False): wide_split_negation_tokens,
    (True, True, True, True, False): wide_leet_negation_tokens,
    (True, False, False, True, True): number_negation_tokens,
    (True, True, False, True, True): number_split_negation_tokens,
    (True, True, True, True, True): number_leet_negation_tokens,
}


@dataclass
class Block:
    """One TF-IDF block of a fitted pipeline: term -> column, idf^2 and final weights
    ``idf * transformer_weight * nb_ratio * coef[k]`` (a column per row ``k`` of coef)."""

    columns: dict[str, int]
    idf2: np.ndarray
    weights: np.ndarray


def union_blocks(pipeline: Any, coef: np.ndarray) -> dict[str, Block]:
    """The word and char :class:`Block` (and the ``raw`` one, when there is one) of a
    fitted pipeline for classifier rows ``coef`` (a ``tag`` block after them is left
    to :func:`tag_weights`)."""
    union = pipeline.named_steps["features"]
    ratios = pipeline.named_steps["nb"].r_
    scales = union.transformer_weights or {}
    blocks: dict[str, Block] = {}
    offset = 0
    for name, vectorizer in union.transformer_list:
        if name == "tag":
            break
        idf = vectorizer.idf_
        size = len(vectorizer.vocabulary_)
        cols = slice(offset, offset + size)
        factor = idf * float(scales.get(name, 1.0)) * ratios[cols]
        blocks[name] = Block(
            vectorizer.vocabulary_,
            idf * idf,
            np.ascontiguousarray((coef[:, cols] * factor).T),
        )
        offset += size
    if (
        set(blocks) - {"raw"} != {"word", "char"}
        or offset + trailing_widths(union)[1] != coef.shape[1]
    ):
        raise ValueError(
            "expected a 'word' and a 'char' TF-IDF block (and at most a 'raw' one)"
        )
    return blocks


def tag_weights(pipeline: Any, coef: np.ndarray) -> np.ndarray | None:
    """Each classifier row's final weight on the ``tag`` column, or None without one."""
    union = pipeline.named_steps["features"]
    if not trailing_widths(union)[1]:
        return None
    scale = float((union.transformer_weights or {}).get("tag", 1.0))
    return coef[:, -1] * scale * float(pipeline.named_steps["nb"].r_[-1])


def _agreed(analyzers: dict[str, Any], names: frozenset[str], what: str) -> bool:
    """Whether the blocks' analyzers are among ``names``; all of them or none."""
    found = {a.__name__ in names for a in analyzers.values()}
    if len(found) != 1:
        raise ValueError(f"the word and char blocks must agree on {what}")
    return found.pop()


class _Analyzers:
    """What a word|char union's analyzers imply for the scorers: the tokeniser, the
    longest word n-gram and whether cue terms are in the word block."""

    def __init__(self, pipeline: Any) -> None:
        union = pipeline.named_steps["features"]
        analyzers = {
            name: v.analyzer for name, v in union.transformer_list if name != "tag"
        }
        if analyzers.pop("raw", raw_char_ngrams) is not raw_char_ngrams:
            raise ValueError("the raw block must use features.raw_char_ngrams")
        if analyzers.get("char") not in (
            char_ngrams,
            char_ngrams_neg,
            char_ngrams_neg_split,
            char_ngrams_neg_split_leet,
            char_ngrams_wneg,
            char_ngrams_wneg_split,
            char_ngrams_wneg_split_leet,
            char_ngrams_wneg_num,
            char_ngrams_wneg_split_num,
            char_ngrams_wneg_split_leet_num,
        ):
            raise ValueError("the char block must use a features.char_ngrams* analyzer")
        if analyzers.get("word") not in WORD_ANALYZERS:
            raise ValueError("the word block must use a features.word_ngrams* analyzer")
        self.negation = _agreed(analyzers, NEGATION_ANALYZERS, "negation marking")
        self.split = _agreed(analyzers, SPLIT_ANALYZERS, "splitting joined words")
        if self.split:
            joined_word_costs()  # read the word list now, not on the first message
        self.leet = _agreed(analyzers, LEET_ANALYZERS, "reading digits inside words")
        if self.leet:
            leet_words()  # the same
        wide = _agreed(analyzers, WIDE_NEGATION_ANALYZERS, "wide negation marking")
        numbers = _agreed(analyzers, NUMBER_ANALYZERS, "reading numbers")
        self.tokens = _TOKENISERS[self.negation, self.split, self.leet, wide, numbers]
        self.max_n = WORD_ANALYZERS[analyzers["word"]]
        # Targeting and frame terms (features.cue_terms) in the word block.
        self.cues = analyzers["word"].__name__ in CUE_ANALYZERS


class CompiledModel(_Analyzers):
    """Weight tables of a fitted word|char TF-IDF -> NB -> logistic regression pipeline.

    For gated experts (``mixture.GatedExperts``) the tables hold the chat model, and the
    route ``a`` (word block only, L1-sparse) is summed beside it: a text the router
    calls chat gets the chat model's logit; any other text is scored by the whole
    mixture (:class:`CompiledMixture`).
    """

    def __init__(self, pipeline: Any) -> None:
        super().__init__(pipeline)
        clf = pipeline.named_steps["clf"]
        self.slow: CompiledMixture | None = None
        if isinstance(clf, GatedExperts):
            # The mixture's blocks hold every row; this model reads the chat row (and,
            # with experts, the route) from them instead of compiling them again.
            mixture = CompiledMixture(pipeline)
            tables = {"word": mixture.word, "char": mixture.char}
            chat_row = mixture.chat_row
            # The final shift of a gated model moves the chat model's logit alike.
            self.intercept = float(mixture.intercepts[chat_row]) + mixture.shift
            if chat_row > 0:
                self.slow = mixture
                self.margin = mixture.margin
                self.route_intercept = float(mixture.intercepts[0])
        else:
            tables = union_blocks(pipeline, np.asarray(clf.coef_)[:1])
            chat_row = 0
            self.intercept = float(clf.intercept_[0])
        words, chars = tables["word"], tables["char"]
        # Char n-grams by vocabulary column: idf^2 and final weight in flat arrays.
        self.char_columns = chars.columns
        self.char_idf2 = array("d", chars.idf2.tolist())
        self.char_w = array("d", chars.weights[:, chat_row].tolist())
        # The route's word-block weights (L1-sparse; all 0.0 for a single model).
        route = words.weights[:, 0] if self.slow is not None else 0.0 * words.idf2
        # Row by row, so one entry's three floats are made together and lie side by
        # side in memory: a lookup then reads one cache line for them, not three.
        rows = np.column_stack([words.idf2, words.weights[:, chat_row], route]).tolist()
        self.word: dict[str, WordEntry] = {
            t: tuple(rows[j]) for t, j in words.columns.items()
        }
        del rows
        word, char_columns = self.word, self.char_columns
        word_columns = words.columns
        char_idf2, char_w = self.char_idf2, self.char_w

        @bounded_cache(200_000)
        def token_info(
            token: str,
        ) -> tuple[float, float, bytes, float, float, float, int]:
            """Unigram (idf^2, weight), the columns of the token's in-vocabulary char
            n-grams (int32 bytes, in order, with repeats), their (idf^2, weight) sums
            as if each occurred once, the unigram's route weight and its word column
            (-1: none; what a text past the router needs).

            Columns as bytes, not n-gram strings: finding a text's repeated n-grams
            then reads a few contiguous buffers instead of every n-gram's string
            object, which on a big vocabulary are cache misses.
            """
            uni_idf2, uni_w, uni_route = word.get(token, _NO_ENTRY)
            cols = [
                c
                for g in word_char_grams(token)
                if (c := char_columns.get(g)) is not None
            ]
            return (
                uni_idf2,
                uni_w,
                array("i", cols).tobytes(),
                sum(char_idf2[c] for c in cols),
                sum(char_w[c] for c in cols),
                uni_route,
                word_columns.get(token, -1),
            )

        self.token_info = token_info
        # Warm both per-word caches with the vocabulary's words, most frequent first
        # (v25: about 23,000, a third of a second and 15 MB), so the first message
        # that holds an ordinary word does not pay for it ("Speed" in docs/model.md).
        vocabulary = sorted(
            (t for t in word_columns if " " not in t and t[0] not in _CUE_MARKS),
            key=lambda t: words.idf2[word_columns[t]],
        )[:WARM_WORDS]
        for token in vocabulary:
            token_info(token)
        warm_text_tokens(vocabulary)

    def decision(self, text: str) -> tuple[float, list[tuple[str, float]]]:
        """Return the decision value and every candidate reason with its contribution."""
        tokens = self.tokens(text)
        if not tokens:
            if self.slow is not None and not self.slow.short_terms:
                # No words, but the experts' raw characters may still count (with
                # `short_terms`, a text with no word term is the chat model's alone).
                return self.slow.logit((), [], None, None, 0.0, 0.0, text), []
            return self.intercept, []
        # Per-token sums assume every term occurs once in the text; terms that occur
        # k > 1 times are corrected to tf = 1 + ln(k) afterwards (exactly sublinear tf).
        uni_idf2s, uni_ws, gram_cols, token_sqs, token_dots, uni_routes, uni_cols = zip(
            *map(self.token_info, tokens), strict=True
        )
        route_dot = sum(uni_routes, 0.0)
        word_sq = sum(uni_idf2s, 0.0)
        word_dot = sum(uni_ws, 0.0)
        char_sq = sum(token_sqs, 0.0)
        char_dot = sum(token_dots, 0.0)
        n_tokens = len(tokens)
        word_table = self.word
        log = math.log

        ngram_hits: list[tuple[float, str]] = []
        hits: list[str] = []
        term_counts: Counter[str] | None = None
        ngrams: list[str] = []
        cues: list[str] = []
        if n_tokens > 1:
            if len(set(tokens)) != n_tokens:
                for token, k in Counter(tokens).items():
                    entry = word_table.get(token) if k > 1 else None
                    if entry is not None:
                        tf = 1.0 + log(k)
                        word_sq += (tf * tf - k) * entry[0]
                        word_dot += (tf - k) * entry[1]
                        route_dot += (tf - k) * entry[2]
            ngrams = word_ngram_strings(tokens, self.max_n)
        if self.cues:
            # Cue terms share no string with n-grams (no space) or tokens ("@", "#").
            cues = cue_terms(tokens)
        terms = ngrams + cues if cues else ngrams
        if terms:
            unique_ngrams = set(terms)
            hits = list(word_table.keys() & unique_ngrams)
            if hits:
                idf2s, weights, routes = zip(
                    *map(word_table.__getitem__, hits), strict=True
                )
                if len(unique_ngrams) != len(terms):
                    term_counts = Counter(terms)
                    tfs = [1.0 + log(term_counts[g]) for g in hits]
                    idf2s = [i * (tf * tf) for i, tf in zip(idf2s, tfs, strict=True)]
                    weights = [w * tf for w, tf in zip(weights, tfs, strict=True)]
                    routes = [r * tf for r, tf in zip(routes, tfs, strict=True)]
                route_dot += sum(routes, 0.0)
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

        char_counts: Counter[int] | None = None
        if char_sq > 0.0:
            cols = _NO_BYTES.join(gram_cols)
            char_counts = Counter(memoryview(cols).cast("i"))
            if len(char_counts) * 4 != len(cols):
                # Most texts repeat a few n-grams ("ou" in "you" and "your"): pick
                # them out without a Python-level loop over every n-gram.
                char_idf2, char_w = self.char_idf2, self.char_w
                for col, k in compress(
                    char_counts.items(), map(_ONE.__lt__, char_counts.values())
                ):
                    tf = 1.0 + log(k)
                    char_sq += (tf * tf - k) * char_idf2[col]
                    char_dot += (tf - k) * char_w[col]

        word_inv = 1.0 / math.sqrt(word_sq) if word_sq > 0.0 else 0.0
        char_inv = 1.0 / math.sqrt(char_sq) if char_sq > 0.0 else 0.0
        if (
            self.slow is not None
            and self.route_intercept + route_dot * word_inv >= self.margin
            and not self.slow.bare(uni_cols, hits)
        ):
            # Past the router: the whole mixture, on this pass's terms and norms.
            decision = self.slow.logit(
                uni_cols, hits, term_counts, char_counts, word_inv, char_inv, text
            )
        else:
            decision = self.intercept + word_dot * word_inv + char_dot * char_inv

        # Reasons: the chat model's weights on either path (the row that scores chat).
        scores = word_reasons(tokens, uni_ws, token_dots, word_inv, char_inv)
        for weight, ngram in ngram_hits:
            scores[ngram] = weight * word_inv
        return decision, sorted(scores.items(), key=_second, reverse=True)


def word_reasons(
    tokens: list[str],
    uni_ws: Sequence[float],
    char_ws: Sequence[float],
    word_inv: float,
    char_inv: float,
) -> dict[str, float]:
    """Each word's contribution with a positive score: its unigram weight plus its char
    n-grams' weights (a char n-gram shared by two words counts for both: this ranks
    reasons, it is not part of the score); the caller adds the word n-grams."""
    return {
        t: v
        for t, w, d in zip(tokens, uni_ws, char_ws, strict=True)
        if (v := w * word_inv + d * char_inv) > 0.0
    }


_second = itemgetter(1)
_SPACE_JOIN = " ".join
_ZERO = 0.0
_ONE = 1
_NO_BYTES = b""
_CUE_MARKS = "@#"


class CompiledMixture:
    """The route and expert rows of a fitted word|char TF-IDF -> NB ->
    :class:`~mixture.GatedExperts` pipeline.

    Every row is linear in the same TF-IDF features, so one text's rows are
    ``intercept + W[terms] . tf * inv`` over its distinct in-vocabulary word and char
    terms (``inv`` the block's inverse norm): one gathered product over both blocks,
    then :func:`mixture.mix_one`.  :class:`CompiledModel`'s chat pass has already
    found a text's terms, their counts and both norms, and hands them over
    (:meth:`logit`); the reasons are the chat model's on either path.  With a ``tag``
    block, a tagged text's rows also get the tag column's weights (``tag``: only the
    style gate's are non-zero).  With a ``raw`` block (read by the experts alone), its
    terms and norm come from the text as written, here.
    """

    def __init__(self, pipeline: Any) -> None:
        clf = pipeline.named_steps["clf"]
        rows = clf.coef_.toarray().astype(np.float64)
        blocks = union_blocks(pipeline, rows)
        word, char, raw = blocks["word"], blocks["char"], blocks.get("raw")
        # Every block's rows in one table (char columns after the word columns, then
        # the raw ones), so a text's rows are one gather and one product; the blocks
        # are views into it.
        n_word, n_char = len(word.idf2), len(char.idf2)
        self.weights = np.ascontiguousarray(
            np.vstack([b.weights for b in (word, char, raw) if b is not None])
        )
        self.word = Block(word.columns, word.idf2, self.weights[:n_word])
        self.char = Block(
            char.columns, char.idf2, self.weights[n_word : n_word + n_char]
        )
        self.char_offset = n_word.__add__
        self.raw: Block | None = None
        if raw is not None:
            self.raw = Block(raw.columns, raw.idf2, self.weights[n_word + n_char :])
            # Its 1- and 2-grams as integer keys (:func:`_raw_keys`), sorted, with
            # their columns: a text's grams are then found by one binary search.
            keys = _raw_keys(list(raw.columns))
            order = np.argsort(keys)
            self.raw_keys = keys[order]
            self.raw_columns = np.fromiter(raw.columns.values(), np.intp)[order]
        self.intercepts = np.asarray(clf.intercept_, dtype=np.float64)
        self.shift = float(clf.shift_)
        self.margin = float(clf.margin)
        # The chat model's row: the first expert (or the only row).
        self.chat_row = rows.shape[0] // 2 if rows.shape[0] > 1 else 0
        self.tag = tag_weights(pipeline, rows)
        columns = getattr(clf, "function_columns_", None)  # None before v31
        self.function_columns = None if columns is None else frozenset(columns.tolist())
        self.short_terms = int(getattr(clf, "short_terms_", 0))  # 0 before v45
        if self.raw is not None and self.raw.weights[:, [0, self.chat_row]].any():
            # The fast path sums the route and the chat model without this block.
            raise ValueError("the raw block must be read by the experts alone")

    def bare(self, unigrams: Sequence[int], hits: Sequence[str]) -> bool:
        """Whether a text's word columns (its tokens', -1 for none, and its distinct
        in-vocabulary n-grams' and cues') are function words only, at least one, or at
        most ``short_terms`` in all: the chat model alone scores it, past the router or
        not (``GatedExperts.bare``)."""
        short = self.short_terms
        if short and len(hits) <= short:
            present = len({column for column in unigrams if column >= 0}) + len(hits)
            if present <= short:
                return True
        function_columns = self.function_columns
        if function_columns is None:
            return False
        # Stops at the first content word, most often the text's first token: a text
        # past the router that is not bare pays a lookup or two before `logit`.
        found = bool(hits)
        for column in unigrams:
            if column >= 0:
                if column not in function_columns:
                    return False
                found = True
        columns = self.word.columns
        for gram in hits:
            if columns[gram] not in function_columns:
                return False
        return found

    def tagged(self, text: str) -> bool:
        """Whether the model has a ``tag`` block and ``text`` holds the tag."""
        return self.tag is not None and text_has_user_tag(text)

    def logit(  # noqa: PLR0913
        self,
        unigrams: Sequence[int],
        hits: Sequence[str],
        hit_counts: Counter[str] | None,
        char_counts: Counter[int] | None,
        word_inv: float,
        char_inv: float,
        text: str,
    ) -> float:
        """The final logit of a text from its tokens' word columns (with repeats; -1
        for a token not in the vocabulary), its distinct in-vocabulary word n-grams
        and cue terms (``hits``, counted in ``hit_counts``, or each once when None),
        its char columns with their counts, the two blocks' inverse norms and the
        text itself (for the tag and the raw block)."""
        columns = self.word.columns
        found = [c for c in unigrams if c >= 0]
        word: dict[int, int] = (
            dict.fromkeys(found, 1) if len(set(found)) == len(found) else Counter(found)
        )
        # An n-gram's or cue's column is never a unigram's: updating adds new keys.
        if hit_counts is None:
            word.update(dict.fromkeys(map(columns.__getitem__, hits), 1))
        else:
            word.update({columns[g]: hit_counts[g] for g in hits})
        char = char_counts or {}
        n_word, n = len(word), len(word) + len(char)
        rows = self.intercepts
        if n:
            # tf = 1 + ln(count) per distinct term, times its block's inverse norm;
            # then every row at once: intercept + (tf * inv) . W[terms].
            cols = np.fromiter(
                chain(word, map(self.char_offset, char)), dtype=np.intp, count=n
            )
            tf = np.log(
                np.fromiter(
                    chain(word.values(), char.values()), dtype=np.float64, count=n
                )
            )
            tf += 1.0
            tf[:n_word] *= word_inv
            tf[n_word:] *= char_inv
            rows = rows + tf @ self.weights[cols]
        if self.raw is not None:
            rows = rows + self._raw_rows(text)
        if self.tagged(text):
            rows = rows + self.tag
        return mix_one(rows.tolist(), self.margin, self.shift)

    def _raw_rows(self, text: str) -> np.ndarray | float:
        """The raw block's part of every row for ``text``: its in-vocabulary 1- and
        2-grams found by key, counted, then ``(tf * inv) . W[grams]``."""
        assert self.raw is not None
        keys = _raw_keys_of(raw_view(text))
        found = np.searchsorted(self.raw_keys, keys)
        found[found == len(self.raw_keys)] = 0
        hit = found[self.raw_keys[found] == keys]
        if not len(hit):
            return 0.0
        cols, counts = np.unique(self.raw_columns[hit], return_counts=True)
        tf = 1.0 + np.log(counts)
        tf /= math.sqrt(float((tf * tf) @ self.raw.idf2[cols]))
        return tf @ self.raw.weights[cols]


# A 2-gram's key is past every 1-gram's (a code point, < 0x110000).
_CODE_POINTS = 0x110000


def _raw_keys(grams: list[str]) -> np.ndarray:
    """Integer keys of raw 1- and 2-grams: a 1-gram's code point; a 2-gram's
    ``(first + 1) * 0x110000 + second``."""
    if any(not 1 <= len(g) <= 2 for g in grams):
        raise ValueError("the raw block holds character 1- and 2-grams only")
    return np.array(
        [
            ord(g) if len(g) == 1 else (ord(g[0]) + 1) * _CODE_POINTS + ord(g[1])
            for g in grams
        ],
        dtype=np.int64,
    )


def _raw_keys_of(text: str) -> np.ndarray:
    """:func:`_raw_keys` of every 1- and 2-gram of ``text``, with repeats, in one pass
    over its code points (lone surrogates included, as Python counts characters)."""
    points = np.frombuffer(
        text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    ).astype(np.int64)
    return np.concatenate([points, (points[:-1] + 1) * _CODE_POINTS + points[1:]])
