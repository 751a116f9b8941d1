"""The single definition of the moderation estimator (TF-IDF + logistic regression)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from cyberscan.detector.features import (
    WORD_ANALYZERS,
    LogCountRatioScaler,
    TextNormalizer,
    char_ngrams,
)

DEFAULT_PARAMS: dict[str, Any] = {
    "word_max_n": 2,
    "word_min_df": 2,
    "word_max_features": 60000,
    "char_min_df": 3,
    "char_max_features": 40000,
    "char_weight": 1.0,
    "nb_alpha": 1.0,
    "C": 0.5,
    "max_iter": 2000,
    "random_state": 42,
}


def build_pipeline(**params: Any) -> Pipeline:
    """Return an unfitted pipeline: normalise -> word 1-n | char 3-4-grams -> NB -> LR.

    Both vectorizers use sublinear tf, smooth idf and l2 normalisation; the fast scorer
    in ``classifier.py`` relies on exactly these settings.
    """
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise TypeError(f"unknown pipeline parameter(s): {', '.join(sorted(unknown))}")
    p = {**DEFAULT_PARAMS, **params}
    analyzers = {n: f for f, n in WORD_ANALYZERS.items()}
    if p["word_max_n"] not in analyzers:
        raise ValueError(f"word_max_n must be one of {sorted(analyzers)}")
    word = TfidfVectorizer(
        analyzer=analyzers[p["word_max_n"]],
        sublinear_tf=True,
        min_df=p["word_min_df"],
        max_features=p["word_max_features"],
        dtype=np.float64,
    )
    char = TfidfVectorizer(
        analyzer=char_ngrams,
        sublinear_tf=True,
        min_df=p["char_min_df"],
        max_features=p["char_max_features"],
        dtype=np.float64,
    )
    features = FeatureUnion(
        [("word", word), ("char", char)],
        transformer_weights={"word": 1.0, "char": float(p["char_weight"])},
    )
    clf = LogisticRegression(
        C=p["C"],
        solver="liblinear",
        max_iter=p["max_iter"],
        random_state=p["random_state"],
    )
    return Pipeline(
        [
            ("normalize", TextNormalizer()),
            ("features", features),
            ("nb", LogCountRatioScaler(alpha=p["nb_alpha"])),
            ("clf", clf),
        ]
    )
