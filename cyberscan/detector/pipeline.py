"""The single definition of the moderation estimator (TF-IDF + logistic regression,
or gated experts)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from cyberscan.detector.features import (
    LogCountRatioScaler,
    StableTfidfVectorizer,
    TextNormalizer,
    UserTag,
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
    raw_char_ngrams,
    word_ngrams,
    word_ngrams_1_3,
    word_ngrams_neg,
    word_ngrams_neg_cues,
    word_ngrams_neg_split,
    word_ngrams_neg_split_leet,
    word_ngrams_wneg,
    word_ngrams_wneg_num,
    word_ngrams_wneg_split,
    word_ngrams_wneg_split_leet,
    word_ngrams_wneg_split_leet_num,
    word_ngrams_wneg_split_num,
)
from cyberscan.detector.mixture import GatedExperts

# (longest word n-gram, negation marking) -> (word analyzer, char analyzer)
ANALYZERS = {
    (2, False): (word_ngrams, char_ngrams),
    (3, False): (word_ngrams_1_3, char_ngrams),
    (3, True): (word_ngrams_neg, char_ngrams_neg),
}
# The same with words run together split first (``split_joined=True``, v36).
SPLIT_ANALYZER_PAIR = (word_ngrams_neg_split, char_ngrams_neg_split)
# The same with digits inside words read first (``read_leet=True``, v47).
LEET_ANALYZER_PAIR = (word_ngrams_neg_split_leet, char_ngrams_neg_split_leet)
# The three pairs with wide negation marking (``wide_negation=True``, v48).
WIDE_ANALYZER_PAIR = (word_ngrams_wneg, char_ngrams_wneg)
WIDE_SPLIT_ANALYZER_PAIR = (word_ngrams_wneg_split, char_ngrams_wneg_split)
WIDE_LEET_ANALYZER_PAIR = (word_ngrams_wneg_split_leet, char_ngrams_wneg_split_leet)
# The three wide pairs with numbers read (``read_numbers=True``, v53).
NUMBER_PAIRS = {
    WIDE_ANALYZER_PAIR: (word_ngrams_wneg_num, char_ngrams_wneg_num),
    WIDE_SPLIT_ANALYZER_PAIR: (word_ngrams_wneg_split_num, char_ngrams_wneg_split_num),
    WIDE_LEET_ANALYZER_PAIR: (
        word_ngrams_wneg_split_leet_num,
        char_ngrams_wneg_split_leet_num,
    ),
}
# A fitted pair -> (its splitting pair, its splitting and digit-reading pair).
_FAMILIES = (
    (ANALYZERS[(3, True)], SPLIT_ANALYZER_PAIR, LEET_ANALYZER_PAIR),
    (WIDE_ANALYZER_PAIR, WIDE_SPLIT_ANALYZER_PAIR, WIDE_LEET_ANALYZER_PAIR),
    tuple(NUMBER_PAIRS.values()),
)
AT_PREDICTION = {pair: family[1:] for family in _FAMILIES for pair in family}

DEFAULT_PARAMS: dict[str, Any] = {
    "word_max_n": 2,
    "negation": False,
    "wide_negation": False,
    "cues": False,
    "split_joined": False,
    "read_leet": False,
    "read_numbers": False,
    "word_min_df": 2,
    "word_max_features": 60000,
    "char_min_df": 3,
    "char_max_features": 40000,
    "char_weight": 1.0,
    "nb_alpha": 1.0,
    "C": 0.5,
    "experts": False,
    "expert_C": 2.0,
    "route_C": 4.0,
    "chat_prior": 0.0,
    "margin": -2.0,
    "gate_tags": False,
    "raw_chars": 0.0,
    "raw_min_df": 2,
    "max_iter": 2000,
    "random_state": 42,
}


def build_pipeline(**params: Any) -> Pipeline:
    """Return an unfitted pipeline: normalise -> word 1-n | char 3-4-grams -> NB -> LR.

    ``negation=True`` (needs ``word_max_n=3``) marks the tokens after a negation cue
    (``features.mark_negation``) in both blocks; ``wide_negation=True`` (needs it, no
    cues) marks with ``features.mark_negation_wide`` instead, in every pair below.
    ``cues=True`` (needs both) adds the second-person targeting and abuse-frame terms
    of ``features.cue_terms`` to the word block.  ``split_joined=True`` (needs
    ``word_max_n=3`` and ``negation=True``, no cues) reads words run together as the
    words they are made of (``features.split_joined``) in both blocks;
    :func:`split_joined_at_prediction` switches a pipeline fitted without it to it.
    ``read_leet=True`` (needs ``split_joined``) reads a word with digits inside as the
    word it spells first (``features.read_leet``); :func:`read_leet_at_prediction`
    switches a fitted pipeline to it.  ``read_numbers=True`` (needs
    ``wide_negation``) reads every number of two or more digits as one token in every
    pair (``features.read_numbers``), fitting and scoring alike.  ``experts=True``
    replaces the logistic regression
    with ``mixture.GatedExperts`` (fit it with ``clf__domain=``; ``expert_C``,
    ``route_C``, ``chat_prior`` and ``margin`` are its settings).
    ``gate_tags=True`` (needs ``experts``) adds a third block, ``tag``
    (``features.UserTag``: one column, OLID's masked mention), which the naive-Bayes
    step passes through unscaled and only the experts' style gate reads (fit it with
    ``clf__gate_columns=1``).
    ``raw_chars=w`` (needs ``experts``) adds a block ``raw`` before it, weighing ``w``:
    character 1-2-grams of each text as written (``features.raw_char_ngrams``: case,
    punctuation, symbols and emoji, which normalisation removes), which only the
    corpus experts read.  Fit either block as ``train.fit_pipeline`` does: the
    naive-Bayes step passes both through (``passthrough``, :func:`trailing_widths`) and
    ``GatedExperts.fit`` gets their widths (``gate_columns``, ``expert_columns``).
    Both vectorizers use sublinear tf, smooth idf and l2 normalisation; the fast scorer
    in ``classifier.py`` relies on exactly these settings.  They break ties at the
    ``max_features`` cut-off by term (``features.StableTfidfVectorizer``), so a run
    gives the same vocabulary on every machine.
    """
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise TypeError(f"unknown pipeline parameter(s): {', '.join(sorted(unknown))}")
    p = {**DEFAULT_PARAMS, **params}
    key = (p["word_max_n"], bool(p["negation"]))
    if key not in ANALYZERS:
        raise ValueError(
            f"word_max_n / negation must be one of {sorted(ANALYZERS)}, got {key}"
        )
    word_analyzer, char_analyzer = ANALYZERS[key]
    if p["cues"]:
        if key != (3, True):
            raise ValueError("cues=True needs word_max_n=3 and negation=True")
        word_analyzer = word_ngrams_neg_cues
    if p["wide_negation"]:
        if key != (3, True) or p["cues"]:
            raise ValueError(
                "wide_negation=True needs word_max_n=3, negation=True, no cues"
            )
        word_analyzer, char_analyzer = WIDE_ANALYZER_PAIR
    if p["split_joined"]:
        if key != (3, True) or p["cues"]:
            raise ValueError(
                "split_joined=True needs word_max_n=3, negation=True, no cues"
            )
        word_analyzer, char_analyzer = AT_PREDICTION[word_analyzer, char_analyzer][0]
    if p["read_leet"]:
        if not p["split_joined"]:
            raise ValueError("read_leet=True needs split_joined=True")
        word_analyzer, char_analyzer = AT_PREDICTION[word_analyzer, char_analyzer][1]
    if p["read_numbers"]:
        if not p["wide_negation"]:
            raise ValueError("read_numbers=True needs wide_negation=True")
        word_analyzer, char_analyzer = NUMBER_PAIRS[word_analyzer, char_analyzer]
    if p["gate_tags"] and not p["experts"]:
        raise ValueError("gate_tags=True needs experts=True")
    if p["raw_chars"] and not p["experts"]:
        raise ValueError("raw_chars needs experts=True")
    word = StableTfidfVectorizer(
        analyzer=word_analyzer,
        sublinear_tf=True,
        min_df=p["word_min_df"],
        max_features=p["word_max_features"],
        dtype=np.float64,
    )
    char = StableTfidfVectorizer(
        analyzer=char_analyzer,
        sublinear_tf=True,
        min_df=p["char_min_df"],
        max_features=p["char_max_features"],
        dtype=np.float64,
    )
    blocks = [("word", word), ("char", char)]
    weights = {"word": 1.0, "char": float(p["char_weight"])}
    if p["raw_chars"]:
        raw = StableTfidfVectorizer(
            analyzer=raw_char_ngrams,
            sublinear_tf=True,
            min_df=p["raw_min_df"],
            dtype=np.float64,
        )
        blocks.append(("raw", raw))
        weights["raw"] = float(p["raw_chars"])
    if p["gate_tags"]:
        blocks.append(("tag", UserTag()))
    features = FeatureUnion(blocks, transformer_weights=weights)
    clf = (
        GatedExperts(
            C=p["C"],
            expert_C=p["expert_C"],
            route_C=p["route_C"],
            chat_prior=p["chat_prior"],
            margin=p["margin"],
            max_iter=p["max_iter"],
            random_state=p["random_state"],
        )
        if p["experts"]
        else LogisticRegression(
            C=p["C"],
            solver="liblinear",
            max_iter=p["max_iter"],
            random_state=p["random_state"],
        )
    )
    return Pipeline(
        [
            ("normalize", TextNormalizer()),
            ("features", features),
            (
                "nb",
                LogCountRatioScaler(
                    alpha=p["nb_alpha"], passthrough=1 if p["gate_tags"] else 0
                ),
            ),
            ("clf", clf),
        ]
    )


def trailing_widths(features: FeatureUnion) -> tuple[int, int]:
    """The widths of a fitted union's ``raw`` block (the experts' alone) and ``tag``
    block (the style gate's alone), 0 for one it lacks.  Both come last, raw first;
    the naive-Bayes step passes both through unscaled (``passthrough``), so the chat
    model's features are what they would be without them."""
    blocks = dict(features.transformer_list)
    raw = len(blocks["raw"].vocabulary_) if "raw" in blocks else 0
    return raw, 1 if "tag" in blocks else 0


def _at_prediction(
    pipeline: Pipeline,
) -> tuple[dict[str, Any], tuple[tuple[Any, Any], ...] | None]:
    """A pipeline's feature blocks by name, and the (split, leet) analyzer pairs its
    word and char pair may switch to (``AT_PREDICTION``; None when it has none)."""
    blocks = dict(pipeline.named_steps["features"].transformer_list)
    return blocks, AT_PREDICTION.get((blocks["word"].analyzer, blocks["char"].analyzer))


def can_split_joined(pipeline: Pipeline) -> bool:
    """Whether a pipeline's analyzers have a splitting pair: word 1-3-grams and char
    n-grams with negation marking (either kind) and no cues (or that pair already)."""
    return _at_prediction(pipeline)[1] is not None


def _switch(pipeline: Pipeline, which: int) -> Pipeline:
    blocks, pairs = _at_prediction(pipeline)
    if pairs is None:
        raise ValueError(
            "only a pipeline with word_ngrams_neg and char_ngrams_neg (or _wneg)"
        )
    blocks["word"].analyzer, blocks["char"].analyzer = pairs[which]
    return pipeline


def split_joined_at_prediction(pipeline: Pipeline) -> Pipeline:
    """Make a fitted pipeline with negation marking (and no cues) split words run
    together when it scores (``features.split_joined``), keeping every fitted weight
    and vocabulary: a text with no such word scores exactly as before ("v36")."""
    return _switch(pipeline, 0)


def read_leet_at_prediction(pipeline: Pipeline) -> Pipeline:
    """Make a fitted pipeline that splits words run together (or can) also read words
    with digits inside as the words they spell when it scores (``features.read_leet``),
    keeping every fitted weight and vocabulary: a text with no such word scores as
    with :func:`split_joined_at_prediction` ("v47")."""
    return _switch(pipeline, 1)
