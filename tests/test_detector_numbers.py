"""Numbers ("see you at 19:00", "m 19", "send 50 pics"): ``features.read_numbers`` and
the scorers that read a pipeline fitted with it (v53, docs/model.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sklearn

from cyberscan.detector import Detector
from cyberscan.detector.artifact import save_artifact
from cyberscan.detector.features import (
    NUMBER,
    is_function_term,
    normalized,
    read_numbers,
    text_tokens,
)
from cyberscan.detector.pipeline import (
    build_pipeline,
    read_leet_at_prediction,
    split_joined_at_prediction,
)
from tests.test_detector_joined import assert_scorer_equals_sklearn
from train.train import fit_pipeline


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("see you at 19:00", "see you at num num"),
        ("m 19 from ck2_9", "m num from ck2 9"),
        ("send 50 pics or else", "send num pics or else"),
        ("class of 2024, room 112", "class of num room num"),
        # a single digit is a word in chat; a number with letters stays whole
        ("u r 2 dumb", "u r 2 dumb"),
        ("meet at 7pm on the 10th", "meet at 7pm on the 10th"),
        # a digit inside a word is read_leet's, not this
        ("ur a l00ser", "ur a l00ser"),
    ],
)
def test_a_number_of_two_or_more_digits_is_one_token(text: str, read: str) -> None:
    assert " ".join(read_numbers(text_tokens(text))) == read


def test_a_plain_text_is_kept_and_a_number_alone_is_no_reason() -> None:
    plain = text_tokens("see you at 7 in room b")
    assert read_numbers(plain) is plain
    assert is_function_term(NUMBER)
    assert is_function_term(f"at {NUMBER}")
    assert not is_function_term(f"send {NUMBER} pics")


TRAIN = [
    ("send 50 pics or everyone sees them", 1),
    ("you have 24 hours before i post it", 1),
    ("nobody likes you, you worthless loser", 1),
    ("r3fugees like you should go back", 1),
    ("ur a l00ser and everyone knows", 1),
    ("see you at 18:00 by the gym", 0),
    ("i'm 19 and from leeds", 0),
    ("we won 21 to 4 last night", 0),
    ("nobody is a loser here, chill", 0),
    ("the refugee dinner is at 7", 0),
] * 3
PROBE = [
    "see you at 19:00",
    "see you at 18:00",
    "m 19 from ck2_9",
    "send 200 pics or everyone sees them",
    "you have 48 hours",
    "r3fugees at 19:45",
    "nobody thinks ur a l00ser",
    "2024",
    "",
]


@pytest.fixture(scope="module")
def fitted():
    texts, labels = zip(*TRAIN, strict=True)
    params = {
        "word_max_n": 3,
        "negation": True,
        "wide_negation": True,
        "word_min_df": 1,
        "char_min_df": 1,
    }
    plain = build_pipeline(**params).fit(list(texts), np.array(labels))
    numbers = build_pipeline(**params, read_numbers=True).fit(
        list(texts), np.array(labels)
    )
    return plain, numbers


def test_fast_scorer_equals_sklearn_on_a_number_pipeline_and_its_switches(
    fitted,
) -> None:
    _, model = fitted
    assert_scorer_equals_sklearn(model, PROBE)
    assert_scorer_equals_sklearn(split_joined_at_prediction(model), PROBE)
    assert_scorer_equals_sklearn(read_leet_at_prediction(model), PROBE)
    word = dict(model.named_steps["features"].transformer_list)["word"]
    assert word.analyzer.__name__ == "word_ngrams_wneg_split_leet_num"


def test_every_number_is_the_same_feature(fitted) -> None:
    plain, numbers = fitted
    before = Detector(plain, {"version": "plain"})
    after = Detector(numbers, {"version": "numbers"})
    same = [
        ("see you at 19:00", "see you at 18:00"),
        ("send 200 pics or everyone sees them", "send 50 pics or everyone sees them"),
        ("i'm 31 and from leeds", "i'm 19 and from leeds"),
    ]
    for text, seen in same:
        assert after.probability(text) == after.probability(seen)
        assert before.probability(text) != before.probability(seen)
    # A single digit is still its own word, and the reasons never show a bare number.
    assert after.probability("see you at 7") != after.probability("see you at 8")
    terms = after.score("send 200 pics or everyone sees them").terms
    assert terms and NUMBER not in terms
    assert not any(any(c.isdigit() for c in t) for t in terms)


def test_a_gated_model_fitted_with_numbers_scores_alike_on_both_paths(
    tmp_path: Path,
) -> None:
    tweets = [
        ("RT @user: this bitch crazy since 2012", 1),
        ("RT @user: fuck mondays 100 times", 1),
        ("RT @user: game tonight at 8:30", 0),
        ("RT @user: new album drops friday 12", 0),
    ]
    comments = [
        ('"You sir are an ignorant fool, 100%."', 1),
        ('"Anyone who believes this is a complete moron."', 1),
        ('"The council vote was postponed until 2025."', 0),
        ('"Great article, thanks for the 12 charts."', 0),
    ]
    styles = (TRAIN, tweets * 3, comments * 3)
    rows = [row for style in styles for row in style]
    texts = [t for t, _ in rows]
    labels = np.array([y for _, y in rows])
    domain = np.repeat(np.arange(3), [len(style) for style in styles])
    params = dict(
        word_max_n=3,
        negation=True,
        wide_negation=True,
        read_numbers=True,
        word_min_df=1,
        char_min_df=1,
        experts=True,
        route_C=10.0,
        chat_prior=0.0,
        margin=0.0,
        raw_chars=0.7,
        raw_min_df=1,
    )
    model = fit_pipeline(
        [normalized(t) for t in texts],
        labels,
        np.ones(len(texts)),
        params,
        chat=domain == 0,
        chat_copy=0.0,
        domain=domain,
        expert_affine={},
        expert_borrow={},
        split_joined=True,
        read_leet=True,
    )
    word = dict(model.named_steps["features"].transformer_list)["word"]
    assert word.analyzer.__name__ == "word_ngrams_wneg_split_leet_num"
    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path, card)
    detector = Detector.from_path(path)
    probes = texts + PROBE + ["RT @user: 2012 was 100 times better"]
    expected = model.predict_proba(probes)[:, 1]
    single = np.array([detector.score(t).probability for t in probes])
    batch = np.array([v.probability for v in detector.score_batch(probes)])
    assert np.max(np.abs(single - expected)) < 1e-9
    assert np.max(np.abs(batch - expected)) < 1e-9


def test_reading_numbers_needs_wide_negation() -> None:
    with pytest.raises(ValueError, match="read_numbers=True needs wide_negation"):
        build_pipeline(word_max_n=3, negation=True, read_numbers=True)
