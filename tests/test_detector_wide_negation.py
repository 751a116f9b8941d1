"""Wide negation marking ("nobody", "none", "no one", "far from"):
``features.mark_negation_wide`` and the scorers that read a pipeline fitted with it
(v48, docs/model.md)."""

from __future__ import annotations

import numpy as np
import pytest

from cyberscan.detector import Detector
from cyberscan.detector.features import (
    mark_negation,
    mark_negation_wide,
    text_tokens,
)
from cyberscan.detector.pipeline import (
    build_pipeline,
    read_leet_at_prediction,
    split_joined_at_prediction,
)
from tests.test_detector_joined import assert_scorer_equals_sklearn


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        # the new cues mark four tokens
        (
            "nobody here thinks you're pathetic for it",
            "nobody ~here ~thinks ~youre ~pathetic for it",
        ),
        ("nobody's calling u a loser", "nobodys ~calling ~u ~a ~loser"),
        ("none of us think ur weird", "none ~of ~us ~think ~ur weird"),
        ("noone likes you", "noone ~likes ~you"),
        # a pair's second word is the cue
        ("no one called you stupid", "no one ~called ~you ~stupid"),
        ("you're far from useless", "youre far from ~useless"),
        ("not far from here", "not ~far from ~here"),
        # the older cues keep their scope of three, and a clause word ends any scope
        ("i never said you were annoying", "i never ~said ~you ~were annoying"),
        ("nobody minds but you are late", "nobody ~minds but you are late"),
        # "far" and "from" apart are ordinary words
        ("far away from home", "far away from home"),
    ],
)
def test_wide_marking(text: str, marked: str) -> None:
    assert " ".join(mark_negation_wide(text_tokens(text))) == marked


def test_the_older_marking_is_unchanged_and_a_text_without_cues_is_kept() -> None:
    tokens = text_tokens("no one called you stupid, nobody did")
    assert mark_negation(tokens) == [
        "no", "~one", "~called", "~you", "stupid", "nobody", "did",
    ]  # fmt: skip
    plain = text_tokens("see you at practice from 5")
    assert mark_negation_wide(plain) is plain


TRAIN = [
    ("nobody likes you", 1),
    ("no one wants you here", 1),
    ("you are a useless loser", 1),
    ("you are stupid", 1),
    ("ur such a l0ser, go away", 1),
    ("you're not stupid", 0),
    ("far from useless, you did great", 0),
    ("none of us think you are weird", 0),
    ("nobody called you a loser, relax", 0),
    ("see you at practice", 0),
] * 3
PROBE = [
    "nobody likes you",
    "no one called you stupid",
    "you're far from a loser lol",
    "nobody thinks ur a l0ser",
    "nobodylikesyou",
    "far from it",
    "noone",
    "",
]


@pytest.fixture(scope="module")
def fitted():
    texts, labels = zip(*TRAIN, strict=True)
    params = {"word_max_n": 3, "negation": True, "word_min_df": 1, "char_min_df": 1}
    wide = build_pipeline(**params, wide_negation=True)
    return wide.fit(list(texts), np.array(labels))


def test_fast_scorer_equals_sklearn_on_a_wide_pipeline_and_its_switches(
    fitted,
) -> None:
    assert fitted.named_steps["features"].transformer_list[0][1].analyzer.__name__ == (
        "word_ngrams_wneg"
    )
    assert_scorer_equals_sklearn(fitted, PROBE)
    split = split_joined_at_prediction(fitted)
    assert split.named_steps["features"].transformer_list[1][1].analyzer.__name__ == (
        "char_ngrams_wneg_split"
    )
    assert_scorer_equals_sklearn(split, PROBE)
    switched = Detector(read_leet_at_prediction(fitted), {"version": "switched"})
    assert switched.probability("nobody thinks ur a l0ser") == pytest.approx(
        switched.probability("nobody thinks ur a loser"), abs=1e-12
    )
    assert_scorer_equals_sklearn(fitted, PROBE)


def test_a_denied_insult_is_another_feature() -> None:
    """Under wide marking "nobody called you a loser" does not share the insult's
    column with "you are a loser"; under the older marking it does."""
    texts = ["you are a loser", "nobody called you a loser"]
    for wide, shared in ((False, True), (True, False)):
        model = build_pipeline(
            word_max_n=3,
            negation=True,
            wide_negation=wide,
            word_min_df=1,
            char_min_df=1,
        )
        blocks = dict(model.fit(texts, [1, 0]).named_steps["features"].transformer_list)
        words = blocks["word"].vocabulary_
        assert ("~loser" in words) is not shared
        assert "loser" in words


def test_wide_negation_needs_negation_marking() -> None:
    with pytest.raises(ValueError, match="wide_negation=True needs"):
        build_pipeline(word_max_n=3, wide_negation=True)
