"""Words run together ("ihatemuslims"): ``features.split_joined`` and the scorers
that read a model switched to it (v36, docs/model.md)."""

from __future__ import annotations

import numpy as np
import pytest

from cyberscan.detector import Detector
from cyberscan.detector.artifact import ArtifactError, sha256_file
from cyberscan.detector.features import (
    JOINED_KNOWN_FILE,
    joined_words_file,
    split_joined,
    split_joined_token,
    text_tokens,
)
from cyberscan.detector.pipeline import build_pipeline, split_joined_at_prediction


@pytest.mark.parametrize(
    ("token", "pieces"),
    [
        ("ihatemuslims", ("i", "hate", "muslims")),
        ("nobodylikesyou", ("nobody", "likes", "you")),
        ("urfat", ("ur", "fat")),
        ("gokillyourself", ("go", "kill", "yourself")),
        ("deportthemall", ("deport", "them", "all")),
        ("seeyoutomorrow", ("see", "you", "tomorrow")),
        ("happybirthday", ("happy", "birthday")),
    ],
)
def test_a_run_of_words_is_read_as_its_words(token: str, pieces: tuple) -> None:
    assert split_joined_token(token) == pieces


@pytest.mark.parametrize(
    "token",
    [
        # words of the web list, which are never split
        "generator",
        "therapist",
        "scunthorpe",
        # words of the training data the web list lacks (joined_words.txt)
        "selfie",
        "unalive",
        # names made of no common words, short tokens, tokens that are not all letters
        "zanele",
        "urso",
        "you",
        "k1ll",
        "abc123",
    ],
)
def test_known_words_short_tokens_and_other_tokens_stay_whole(token: str) -> None:
    assert split_joined_token(token) == (token,)


def test_split_joined_keeps_order_and_returns_the_same_list_when_nothing_splits() -> (
    None
):
    tokens = text_tokens("ok so urfat and nobodylikesyou lol")
    assert split_joined(tokens) == [
        "ok", "so", "ur", "fat", "and", "nobody", "likes", "you", "lol",
    ]  # fmt: skip
    plain = text_tokens("see you at the generator later")
    assert split_joined(plain) is plain


TRAIN = [
    ("nobody likes you, you fat loser", 1),
    ("i hate you so much go away", 1),
    ("go kill yourself you idiot", 1),
    ("you are not welcome here freak", 1),
    ("see you tomorrow at practice", 0),
    ("happy birthday, have a great day", 0),
    ("you are not a loser, the test was hard", 0),
    ("i love this song so much", 0),
] * 3
PROBE = [
    "nobodylikesyou",
    "ur a fatloser lol",
    "ihateyou, goaway",
    "seeyoutomorrow!",
    "happybirthday you",
    "ur notaloser",
    "nothing joined here, you fat loser",
    "",
]


@pytest.fixture(scope="module")
def fitted():
    texts, labels = zip(*TRAIN, strict=True)
    params = {"word_max_n": 3, "negation": True, "word_min_df": 1, "char_min_df": 1}
    plain = build_pipeline(**params).fit(list(texts), np.array(labels))
    split = build_pipeline(**params, split_joined=True).fit(
        list(texts), np.array(labels)
    )
    return plain, split


def assert_scorer_equals_sklearn(model, probes: list[str]) -> None:
    """Both scorer paths give ``model``'s probabilities to 1e-9, with the same terms."""
    detector = Detector(model, {"version": "tiny", "threshold": 0.6})
    expected = model.predict_proba(probes)[:, 1]
    single = [detector.score(t) for t in probes]
    got = np.array([v.probability for v in single])
    assert np.max(np.abs(got - expected)) < 1e-9
    batch = detector.score_batch(probes)
    assert [v.terms for v in batch] == [v.terms for v in single]
    assert np.max(np.abs([v.probability for v in batch] - expected)) < 1e-9


def test_fast_scorer_equals_sklearn_on_a_splitting_pipeline(fitted) -> None:
    _, model = fitted
    assert_scorer_equals_sklearn(model, PROBE)


def test_switching_at_prediction_keeps_every_other_text_and_reads_runs_spaced(
    fitted,
) -> None:
    plain, _ = fitted
    before = Detector(plain, {"version": "plain"})
    after = Detector(split_joined_at_prediction(plain), {"version": "switched"})
    assert after.pipeline is plain  # the same fitted weights, analyzers switched
    unjoined = ["nothing joined here, you fat loser", "see you at practice", ""]
    for text in unjoined:
        assert after.probability(text) == before.probability(text)
    pairs = [("nobodylikesyou", "nobody likes you"), ("ihateyou", "i hate you")]
    for joined, spaced in pairs:
        assert after.probability(joined) == pytest.approx(
            before.probability(spaced), abs=1e-12
        )
        assert before.probability(joined) != pytest.approx(before.probability(spaced))
    assert "loser" in after.score("ur a fatloser lol").terms
    expected = plain.predict_proba(PROBE)[:, 1]
    got = np.array([after.probability(t) for t in PROBE])
    assert np.max(np.abs(got - expected)) < 1e-9


def test_only_a_negation_pipeline_without_cues_can_split() -> None:
    with pytest.raises(ValueError, match="split_joined"):
        build_pipeline(split_joined=True)
    with pytest.raises(ValueError, match="split_joined"):
        build_pipeline(word_max_n=3, negation=True, cues=True, split_joined=True)
    texts, labels = zip(*TRAIN, strict=True)
    two = build_pipeline(word_min_df=1, char_min_df=1).fit(
        list(texts), np.array(labels)
    )
    with pytest.raises(ValueError, match="word_ngrams_neg"):
        split_joined_at_prediction(two)


def test_a_model_recorded_with_another_word_list_is_refused(fitted) -> None:
    _, model = fitted
    right = sha256_file(joined_words_file())
    Detector(model, {"version": "ok", "training": {"joined_words_sha256": right}})
    for key in ("joined_words_sha256", "joined_known_sha256"):
        with pytest.raises(ArtifactError, match="another word list"):
            Detector(model, {"version": "old", "training": {key: "0" * 64}})


def test_the_known_word_list_is_the_one_v36_was_measured_with() -> None:
    """v36's card records the web list's sha256 only; the committed list of v33's
    words it never splits is pinned here (docs/model.md, "Data"), and later cards
    record it too (``training.joined_known_sha256``)."""
    assert sha256_file(JOINED_KNOWN_FILE) == (
        "c2e40dd717b52888c28319b0c8fcf606bdabb07b24c31e3151ec9fb69f72536e"
    )


def test_training_switches_a_negation_model_and_leaves_the_others() -> None:
    from cyberscan.detector.features import normalized
    from train import train

    texts, labels = zip(*TRAIN, strict=True)
    x = [normalized(t) for t in texts]
    y = np.array(labels)
    w = np.ones(len(y))
    chat = np.ones(len(y), dtype=bool)

    def word_analyzer(params: dict, **kw) -> str:
        model = train.fit_pipeline(x, y, w, params, chat, 0.0, **kw)
        union = dict(model.named_steps["features"].transformer_list)
        return union["word"].analyzer.__name__

    neg = {"word_max_n": 3, "negation": True, "word_min_df": 1, "char_min_df": 1}
    assert train.SPLIT_JOINED_AT_PREDICTION  # the default recipe splits (v36)
    assert train.READ_LEET_AT_PREDICTION  # and reads digits inside words (v47)
    assert word_analyzer(neg) == "word_ngrams_neg_split_leet"
    assert word_analyzer(neg, read_leet=False) == "word_ngrams_neg_split"
    assert word_analyzer(neg, split_joined=False) == "word_ngrams_neg"
    assert word_analyzer({"word_min_df": 1, "char_min_df": 1}) == "word_ngrams"
