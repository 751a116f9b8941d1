"""Digits inside words ("r3fugees", "w0men"): ``features.read_leet`` and the scorers
that read a model switched to it (v47, docs/model.md)."""

from __future__ import annotations

import numpy as np
import pytest

from cyberscan.detector import Detector
from cyberscan.detector.features import read_leet, read_leet_token, text_tokens
from cyberscan.detector.pipeline import (
    build_pipeline,
    read_leet_at_prediction,
    split_joined_at_prediction,
)
from tests.test_detector_joined import assert_scorer_equals_sklearn


@pytest.mark.parametrize(
    ("token", "word"),
    [
        ("r3fugees", "refugees"),
        ("w0men", "women"),
        ("1mm1gr4nt5", "immigrants"),  # "1" read as "i" before "l"
        ("b1rthd4y", "birthday"),
        ("musl1m", "muslim"),
        ("sch00l", "school"),
        # a word of the de-obfuscation lexicon first, a doubled letter made single
        ("l00ser", "loser"),
        ("1d10t", "idiot"),
    ],
)
def test_a_word_with_digits_inside_is_read_as_the_word_it_spells(
    token: str, word: str
) -> None:
    assert read_leet_token(token) == word


@pytest.mark.parametrize(
    "token",
    [
        # digits at a word's edge are ordinary use
        "10th",
        "11am",
        "sum1",
        "mp3",
        "4ever",
        "covid19",
        "ps5",
        "gr8",
        # "2" and "6" are never read as letters; too short; no known word spelled
        "w2men",
        "b4",
        "m0zlems",
        "abc123",
        # words, and tokens that are not all letters and digits
        "refugees",
        "r3fugees!",
    ],
)
def test_other_tokens_stay_as_written(token: str) -> None:
    assert read_leet_token(token) == token


def test_read_leet_keeps_order_and_returns_the_same_list_when_nothing_is_read() -> None:
    tokens = text_tokens("all r3fugees at 10am in w0men's room 5")
    assert read_leet(tokens) == [
        "all", "refugees", "at", "10am", "in", "womens", "room", "5",
    ]  # fmt: skip
    plain = text_tokens("see you at 10am in room 5")
    assert read_leet(plain) is plain


TRAIN = [
    ("refugees are parasites", 1),
    ("you are a worthless loser", 1),
    ("nobody wants women like you here", 1),
    ("go back to your country", 1),
    ("refugee welcome dinner tonight", 0),
    ("the womens team won 3-1", 0),
    ("see you at school at 10am", 0),
    ("happy birthday, have a great day", 0),
] * 3
PROBE = [
    "r3fugees are parasites",
    "r3fugee welcome dinner tonight",
    "w0men like you",
    "ur a l00ser",
    "sch00l at 10am",
    "h4ppy b1rthd4y",
    "nothing to read here, you loser",
    "",
]


@pytest.fixture(scope="module")
def fitted():
    texts, labels = zip(*TRAIN, strict=True)
    params = {"word_max_n": 3, "negation": True, "word_min_df": 1, "char_min_df": 1}
    plain = build_pipeline(**params).fit(list(texts), np.array(labels))
    leet = build_pipeline(**params, split_joined=True, read_leet=True).fit(
        list(texts), np.array(labels)
    )
    return plain, leet


def test_fast_scorer_equals_sklearn_on_a_reading_pipeline(fitted) -> None:
    _, model = fitted
    assert_scorer_equals_sklearn(model, PROBE)


def test_switching_at_prediction_keeps_every_other_text_and_reads_the_words(
    fitted,
) -> None:
    plain, _ = fitted
    split = Detector(split_joined_at_prediction(plain), {"version": "split"})
    before = {t: split.probability(t) for t in PROBE}
    after = Detector(read_leet_at_prediction(plain), {"version": "switched"})
    assert after.pipeline is plain  # the same fitted weights, analyzers switched
    for text in ("nothing to read here, you loser", "see you at 10am", "ps5 gr8", ""):
        assert after.probability(text) == split.probability(text)
    pairs = [
        ("r3fugees are parasites", "refugees are parasites"),
        ("w0men like you", "women like you"),
        ("ur a l00ser", "ur a loser"),
    ]
    for leet, plain_text in pairs:
        assert after.probability(leet) == pytest.approx(
            after.probability(plain_text), abs=1e-12
        )
        assert before[leet] != pytest.approx(after.probability(leet))
    assert "refugees" in after.score("r3fugees are parasites").terms
    expected = plain.predict_proba(PROBE)[:, 1]
    got = np.array([after.probability(t) for t in PROBE])
    assert np.max(np.abs(got - expected)) < 1e-9


def test_reading_digits_needs_a_splitting_pipeline() -> None:
    with pytest.raises(ValueError, match="read_leet=True needs split_joined"):
        build_pipeline(word_max_n=3, negation=True, read_leet=True)
    texts, labels = zip(*TRAIN, strict=True)
    two = build_pipeline(word_min_df=1, char_min_df=1).fit(
        list(texts), np.array(labels)
    )
    with pytest.raises(ValueError, match="word_ngrams_neg"):
        read_leet_at_prediction(two)
