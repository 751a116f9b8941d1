"""The fast scorer reproduces the scikit-learn pipeline; artifacts are verified on load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sklearn.feature_extraction.text import TfidfVectorizer

from config import current_classifier
from cyberscan.detector import (
    ArtifactError,
    Detector,
    Verdict,
    get_detector,
    init_app,
    load,
    load_detector,
)
from cyberscan.detector.artifact import (
    load_artifact,
    next_version,
    save_artifact,
    sha256_file,
)
from cyberscan.detector.features import (
    NEGATION_CUES,
    StableTfidfVectorizer,
    _chunk_tokens,
    addresses_reader,
    bounded_cache,
    char_ngrams,
    cue_terms,
    is_function_term,
    mark_negation,
    normalize_text,
    text_tokens,
    warm_text_tokens,
    word_ngrams,
    word_tokens,
)
from cyberscan.detector.pipeline import build_pipeline
from cyberscan.detector.scorer import CompiledModel
from cyberscan.detector.verdict import MAX_TERMS
from cyberscan.detector.verdict import top_terms as _top_terms

REPO = Path(__file__).resolve().parents[1]
COMMITTED = current_classifier(REPO / "models") or None

ABUSE = [
    "you are a stupid idiot",
    "go kill yourself loser",
    "nobody likes you, you ugly freak",
    "shut up you worthless moron",
    "you fat pig, everyone hates you",
    "you are pathetic and disgusting",
]
CLEAN = [
    "see you at the library at noon",
    "thanks for the notes, you are the best",
    "the lecture was really interesting today",
    "happy birthday, have a great day",
    "can you send me the slides please",
    "i am making pasta for dinner tonight",
]

EDGE_TEXTS = [
    "",
    " ",
    "\n\t",
    "😀",
    "😭😭😭 🔥",
    "a",
    "you",
    "idiot idiot idiot idiot",
    "you you you are are an an idiot idiot",
    "go k1ll yourself l0ser",
    "f u c k you b!tch",
    "YOU ARE SOOOO STUPIDDDD!!!!!!",
    "email me at bob.smith99@uni.edu or see https://example.com/a_b?q=1",
    "@USER @USER you are a joke URL",
    "in 2024 we had a 1 on 1 at 10pm",
    "café naïve ＦＵＣＫ Ünïcödé",
    "ok",
    "x" * 5000,
    " ".join(ABUSE + CLEAN) * 50,
    "\x00\x01 control chars \u200b zero width",
    "السلام عليكم 你好 привет",
]


@pytest.fixture(scope="module")
def tiny_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained with the real pipeline and written with the real artifact code."""
    texts = ABUSE * 3 + CLEAN * 3
    labels = [1] * (len(ABUSE) * 3) + [0] * (len(CLEAN) * 3)
    model = build_pipeline(word_min_df=1, char_min_df=1)
    model.fit(texts, np.array(labels))
    import sklearn

    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path_factory.mktemp("models"), card)
    return path


def _detectors(tiny_artifact: Path) -> list[Detector]:
    detectors = [Detector.from_path(tiny_artifact)]
    if COMMITTED is not None:
        detectors.append(load_detector(COMMITTED))
    return detectors


def test_fast_scorer_matches_sklearn(tiny_artifact: Path) -> None:
    texts = (
        EDGE_TEXTS
        + ABUSE
        + CLEAN
        + [f"{a} {c}" for a, c in zip(ABUSE, CLEAN, strict=True)]
    )
    for detector in _detectors(tiny_artifact):
        expected = detector.pipeline.predict_proba(texts)[:, 1]
        got = np.array([detector.score(t).probability for t in texts])
        assert np.max(np.abs(got - expected)) < 1e-9, detector.version


@pytest.mark.skipif(COMMITTED is None, reason="no committed model in models/")
def test_fast_scorer_matches_sklearn_on_dev_set_texts() -> None:
    import csv

    with open(REPO / "train" / "eval" / "dev_set.csv", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    detector = load_detector(COMMITTED)
    expected = detector.pipeline.predict_proba(texts)[:, 1]
    got = np.array([v.probability for v in detector.score_batch(texts)])
    assert np.max(np.abs(got - expected)) < 1e-9


@pytest.mark.skipif(COMMITTED is None, reason="no committed model in models/")
def test_fast_scorer_matches_sklearn_on_tagged_texts() -> None:
    """Texts that hold OLID's masked mention ("@USER"), many of them past the router,
    where a model with the tag block (v20 on) adds its weights to the style gate."""
    import csv

    with open(REPO / "train" / "eval" / "dev_set.csv", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)][:300]
    texts = [f"@USER {t}" for t in texts] + [f"@USER @USER {t} URL" for t in texts]
    detector = load_detector(COMMITTED)
    clf = detector.pipeline.named_steps["clf"]
    rows = clf.decision_rows(detector.pipeline[:-1].transform(texts))
    assert (rows[:, 0] >= clf.margin).sum() > 50  # past the router
    expected = detector.pipeline.predict_proba(texts)[:, 1]
    got = np.array([detector.score(t).probability for t in texts])
    assert np.max(np.abs(got - expected)) < 1e-9


def _assert_same_verdicts(batch: list[Verdict], single: list[Verdict]) -> None:
    # score_batch sums the same terms in another order (sparse products), so the
    # probabilities may differ in the last bits; terms and versions must be identical.
    assert len(batch) == len(single)
    for b, s in zip(batch, single, strict=True):
        assert isinstance(b, Verdict)
        assert (b.terms, b.model_version) == (s.terms, s.model_version)
        assert abs(b.probability - s.probability) < 1e-9


def test_batch_equals_single(tiny_artifact: Path) -> None:
    # Empty and token-less texts between others, repeated words and repeated bigrams.
    texts = EDGE_TEXTS + ["", "idiot", "😀", "stupid idiot stupid idiot you"] + ABUSE
    for detector in _detectors(tiny_artifact):
        batch = detector.score_batch(texts)
        _assert_same_verdicts(batch, [detector.score(t) for t in texts])
        expected = detector.pipeline.predict_proba(texts)[:, 1]
        got = np.array([v.probability for v in batch])
        assert np.max(np.abs(got - expected)) < 1e-9, detector.version
        assert detector.score_batch([]) == []
        assert detector.score_batch(["", " "]) == [detector.score("")] * 2
        _assert_same_verdicts(
            detector.score_batch(("you idiot",)), [detector.score("you idiot")]
        )


@pytest.mark.skipif(COMMITTED is None, reason="no committed model in models/")
def test_batch_equals_single_on_corpus_like_texts() -> None:
    import csv

    with open(REPO / "train" / "eval" / "dev_set.csv", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    texts += [f"{a} {b} {a}" for a, b in zip(texts, reversed(texts), strict=True)]
    detector = load_detector(COMMITTED)
    _assert_same_verdicts(
        detector.score_batch(texts), [detector.score(t) for t in texts]
    )


def test_trigram_pipeline_is_scored_exactly() -> None:
    # build_pipeline(word_max_n=3) adds word trigrams; the fast scorer must follow.
    texts = ABUSE * 3 + CLEAN * 3 + ["you are a stupid idiot you are a stupid idiot"]
    labels = [1] * (len(ABUSE) * 3) + [0] * (len(CLEAN) * 3) + [1]
    model = build_pipeline(word_max_n=3, word_min_df=1, char_min_df=1)
    model.fit(texts, np.array(labels))
    detector = Detector(model, {"version": "tri", "threshold": 0.6})
    probe = EDGE_TEXTS + ABUSE + CLEAN + ["a stupid idiot you are a stupid idiot"]
    expected = model.predict_proba(probe)[:, 1]
    single = [detector.score(t) for t in probe]
    got = np.array([v.probability for v in single])
    assert np.max(np.abs(got - expected)) < 1e-9
    _assert_same_verdicts(detector.score_batch(probe), single)
    assert any(" " in t for t in detector.score("you are a stupid idiot").terms)


def _tied_documents() -> tuple[list[str], list[str]]:
    """Documents over 6,000 terms that occur 1, 2, 3 or 4 times each, whose names do not
    sort by count, and the terms a ``max_features=2,500, min_df=2`` cut must keep: the
    most frequent, ties broken by term."""
    rng = np.random.default_rng(5)
    names = rng.permutation(10**6)[:6000]
    counts = {f"t{name:06d}": 1 + i % 4 for i, name in enumerate(names)}
    words = [term for term, n in counts.items() for _ in range(n)]
    order = rng.permutation(len(words))
    docs = [
        " ".join(words[i] for i in order[j : j + 7]) for j in range(0, len(order), 7)
    ]
    frequent = sorted(
        (t for t, n in counts.items() if n >= 2), key=lambda t: (-counts[t], t)
    )
    return docs, frequent[:2500]


def test_max_features_cut_breaks_ties_by_term() -> None:
    # numpy's default sort orders equal counts by the CPU's vector instructions; the
    # kept vocabulary must not depend on the machine a model is trained on.
    docs, expected = _tied_documents()
    stable = StableTfidfVectorizer(analyzer=str.split, min_df=2, max_features=2500)
    got = stable.fit_transform(docs)
    assert set(stable.vocabulary_) == set(expected)
    assert sorted(stable.vocabulary_.values()) == list(range(2500))
    # Everything but the choice of terms is scikit-learn's.
    fixed = TfidfVectorizer(analyzer=str.split, vocabulary=sorted(expected)).fit(docs)
    assert stable.vocabulary_ == fixed.vocabulary_
    assert np.array_equal(stable.idf_, fixed.idf_)
    assert abs(got - fixed.transform(docs)).max() < 1e-15


@pytest.mark.parametrize(
    "text",
    EDGE_TEXTS
    + [
        "f u c k you",
        "you're a l 0 s e r",
        "a' b' c' d",
        "see www.example.com/a b c d now",
        "mail a@b.co!x y z",
        "@user @USER u r a bot",
        "tab\tseparated\x1cwords\nand lines",
        "it's 'quoted' and `ticked`",
        "k1ll!!! urself... NOW",
        "the www.. link",
        # Curly apostrophes and quotes, dashes: read within their chunk.
        "don’t be like that – it’s “fine”",
        "a’ b’ c’ d",
        "‘f’ u c k",
        "you’re a l 0 s e r…",
        "don´t",
        "f·u·c·k you — seriously",
        # Emoji keep a text on the chunk path; letters in disguise do not.
        "lol 😂😂 ur so dumb 💀",
        "f 😂 u c k you",
        "😂 f u c k",
        "Ⓕ Ⓤ Ⓒ Ⓚ you 😂",
        "🄵 🅄 🄲 🄺 😂",
        "ｆｕｃｋ 😂 you",
        "you ™ loser",
        "🄰🅂🅂 😂",
        "sh€t 😂",
        "іdiot 😂",
        "a\u200bss 😂",
        "l\xa0o\xa0s\xa0e\xa0r 😂",
    ],
)
def test_text_tokens_equals_normalize_then_tokenize(text: str) -> None:
    assert text_tokens(text) == word_tokens(normalize_text(text))


_FUZZ_ASCII = ["http://", "www.", ".com", "@user", "f u c k", "a.b.c", " u r a "]
# Texts whose only non-ASCII characters are punctuation or symbols read within their
# chunk (emoji, curly quotes, dashes) take the chunk path; any other non-ASCII
# character (letters, look-alikes, full-width forms, symbols with a compatibility form,
# currency leet, invisible marks, other spaces) keeps the whole text on normalize_text.
_FUZZ_EMOJI = [
    *_FUZZ_ASCII,
    *["😂", "😭😭", "💀", "🤡", "🎉", "👍🏽", "❤️", "🏳️‍🌈", "☺", "→", "✨"],
    *["™", "℅", "Ⓐ", "🄰", "€", "£", "а", "і", "ｆ", "é", "\u200b", "\xa0", "\u3000"],
    *["’", "‘", "“", "”", "–", "…", "´", "−", "·", "¡", "©", "’ "],
    *["Ⓐ ", "🄰 ", "ｆ ", "😂 ", "x "] * 4,  # letters in disguise, spaced
]


@pytest.mark.parametrize(
    ("seed", "extra"), [(7, _FUZZ_ASCII), (11, _FUZZ_EMOJI)], ids=["ascii", "emoji"]
)
def test_text_tokens_equals_normalize_then_tokenize_fuzz(
    seed: int, extra: list[str]
) -> None:
    import random

    rng = random.Random(seed)
    alphabet = list("abcdefghijklmnopqrstuvwxyz" * 3) + list(
        "   ..!!??**--__''``@@##$$1034|+%:/\t\n\x1cABZ"
    )
    alphabet += extra
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        assert text_tokens(text) == word_tokens(normalize_text(text)), repr(text)


def test_a_text_with_emoji_reads_its_words_from_the_chunk_cache() -> None:
    warm_text_tokens(["great", "game"])
    before = _chunk_tokens.cache_info()
    assert text_tokens("great game 🎉") == ["great", "game", "🎉"]
    after = _chunk_tokens.cache_info()
    assert after.hits >= before.hits + 2


def test_top_terms_break_exact_ties_by_term() -> None:
    ranked = [("zeta", 2.0), ("beta", 1.0), ("alpha", 1.0), ("x", 0.5)]
    assert _top_terms(ranked) == ("zeta", "alpha", "beta", "x")
    tied = [(f"t{i}", 1.0) for i in range(9, -1, -1)]
    assert _top_terms(tied) == tuple(f"t{i}" for i in range(MAX_TERMS))
    assert _top_terms([("a", 0.0), ("b", -1.0)]) == ()
    assert _top_terms([]) == ()


def test_verdict_shape_and_threshold_outside(tiny_artifact: Path) -> None:
    detector = Detector.from_path(tiny_artifact)
    verdict = detector.score("you are a stupid idiot")
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.probability <= 1.0
    assert verdict.model_version == "cyberscan-clf-v1"
    assert detector.threshold == 0.6
    assert verdict.is_bullying(verdict.probability) is True
    assert verdict.is_bullying(min(1.0, verdict.probability + 1e-6)) is False
    as_dict = verdict.as_dict(0.0)
    assert set(as_dict) == {"probability", "is_bullying", "model_version", "terms"}
    assert as_dict["is_bullying"] is True
    assert isinstance(as_dict["terms"], list)


def test_terms_explain_the_score(tiny_artifact: Path) -> None:
    for detector in _detectors(tiny_artifact):
        verdict = detector.score("hey you stupid idiot, see you at the library")
        assert 1 <= len(verdict.terms) <= 5
        assert any("stupid" in t or "idiot" in t for t in verdict.terms[:2]), (
            verdict.terms
        )
        assert detector.score("").terms == ()
        assert detector.score("   ").terms == ()
        assert set(detector.score("😀 library").terms) <= {"😀", "library"}


def test_terms_show_deobfuscated_words() -> None:
    if COMMITTED is None:
        pytest.skip("no committed model in models/")
    verdict = load_detector(COMMITTED).score("go k1ll yourself l0ser")
    assert {"kill", "loser", "yourself", "kill yourself"} & set(verdict.terms)


def test_probabilities_are_finite_for_extremes(tiny_artifact: Path) -> None:
    detector = Detector.from_path(tiny_artifact)
    for text in ["idiot " * 20000, "library " * 20000]:
        p = detector.score(text).probability
        assert 0.0 <= p <= 1.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("go k1ll yourself l0ser", "go kill yourself loser"),
        ("you f*ck1ng b!tch", "you fucking bitch"),
        ("f**k off", "fuck off"),
        ("sh1t", "shit"),
        ("a$$hole", "asshole"),
        ("f u c k you", "fuck you"),
        ("d u m b a s s", "dumbass"),
        ("you are a looooser!!!!", "you are a loser!"),
        ("YoU ArE SoOo StUpiD???", "you are so stupid?"),
        ("killlll urself", "kill urself"),
        ("cooool, gooood morning", "cool, good morning"),
        ("ＦＵＣＫ café", "fuck cafe"),
        ("I'm   here", "im here"),
        ("in 2024 we had a 1 on 1", "in 2024 we had a 1 on 1"),
        ("1st place at 10pm, mp3 and covid19", "1st place at 10pm, mp3 and covid19"),
        ("u r a bot", "u r a bot"),
        ("mail bob.smith99@uni.edu now", "mail bob.smith99@uni.edu now"),
        ("see https://x.com/a_b?q=1!!", "see https://x.com/a_b?q=1!!"),
        ("@USER thanks", "@user thanks"),
        ("the score was 3-1, 100000 views", "the score was 3-1, 100000 views"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_analyzers_use_placeholders_and_bigrams() -> None:
    grams = word_ngrams(normalize_text("@bob see https://x.com now, mail a@b.org"))
    assert grams[:6] == ["user", "see", "url", "now", "mail", "emailaddress"]
    assert "see url" in grams
    assert char_ngrams("hi") == [" hi", "hi ", " hi "]


def test_load_refuses_sha_mismatch(tiny_artifact: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cyberscan-clf-v1.joblib"
    shutil.copy(tiny_artifact, copy)
    card = json.loads(tiny_artifact.with_suffix(".json").read_text())
    card["artifact_sha256"] = "0" * 64
    copy.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match="sha256"):
        load_artifact(copy)


def test_load_refuses_modified_artifact(tiny_artifact: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cyberscan-clf-v1.joblib"
    copy.write_bytes(tiny_artifact.read_bytes() + b"\0")
    shutil.copy(tiny_artifact.with_suffix(".json"), copy.with_suffix(".json"))
    with pytest.raises(ArtifactError, match="corrupt or was replaced"):
        Detector.from_path(copy)


def test_load_refuses_other_sklearn_version(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "cyberscan-clf-v1.joblib"
    shutil.copy(tiny_artifact, copy)
    card = json.loads(tiny_artifact.with_suffix(".json").read_text())
    card["sklearn_version"] = "0.24.2"
    copy.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match=r"trained with scikit-learn 0\.24\.2"):
        load_artifact(copy)


def test_load_refuses_missing_files(tiny_artifact: Path, tmp_path: Path) -> None:
    # The path may come from models/CURRENT, CLASSIFIER_PATH or --model: the message
    # names each way to point at an existing version.
    with pytest.raises(ArtifactError, match="does not exist") as missing:
        load_detector(tmp_path / "cyberscan-clf-v9.joblib")
    for way in ("models/CURRENT", "train.promote vN", "CLASSIFIER_PATH"):
        assert way in str(missing.value)
    for loader in (load_detector, load_artifact):
        with pytest.raises(ArtifactError, match="is a folder, not an artifact"):
            loader(tmp_path)
    lonely = tmp_path / "cyberscan-clf-v1.joblib"
    shutil.copy(tiny_artifact, lonely)
    with pytest.raises(ArtifactError, match="sidecar"):
        load_artifact(lonely)


def test_artifacts_are_immutable_and_numbered(tiny_artifact: Path) -> None:
    folder = tiny_artifact.parent
    assert next_version(folder) == 2
    before = sha256_file(tiny_artifact)
    with pytest.raises(ArtifactError, match="never overwritten"):
        save_artifact(object(), folder, {}, version=1)
    assert sha256_file(tiny_artifact) == before


def test_a_file_name_with_a_trailing_newline_is_not_a_version(tmp_path: Path) -> None:
    (tmp_path / "cyberscan-clf-v7.joblib\n").write_bytes(b"")
    assert next_version(tmp_path) == 1


class _FakeApp:
    def __init__(self, path: Path) -> None:
        self.config = {"CLASSIFIER_PATH": str(path)}
        self.extensions: dict[str, object] = {}


def test_init_app_loads_nothing_and_load_loads_once_for_every_app(
    tiny_artifact: Path,
) -> None:
    first, second = _FakeApp(tiny_artifact), _FakeApp(tiny_artifact)
    init_app(first)
    init_app(second)
    assert first.extensions["detector"] is None  # a command that never scores
    loaded = load(first)
    assert isinstance(loaded, Detector)
    assert first.extensions["detector"] is loaded
    assert load(first) is loaded
    assert load(second) is loaded  # one verified copy per file version and process


def test_a_model_that_is_no_artifact_is_refused_when_loaded(tmp_path: Path) -> None:
    """init_app only checks that the file is there; load verifies it (run.py calls it
    before listening, so the server still refuses it at start)."""
    not_a_model = tmp_path / "cyberscan-clf-v1.joblib"
    not_a_model.write_bytes(b"not a model")
    app = _FakeApp(not_a_model)
    init_app(app)
    with pytest.raises(ArtifactError, match="sidecar"):
        load(app)
    assert app.extensions["detector"] is None


def test_get_detector_loads_on_first_use(tiny_artifact: Path) -> None:
    app = Flask(__name__)
    app.config["CLASSIFIER_PATH"] = str(tiny_artifact)
    init_app(app)
    with app.app_context():
        detector = get_detector()
        assert app.extensions["detector"] is detector
        assert get_detector() is detector
        assert 0.0 <= detector.score("you are kind").probability <= 1.0


def test_init_app_refuses_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        init_app(_FakeApp(tmp_path / "nope.joblib"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("you id\u200biot", "you idiot"),
        ("stu\u200dpid b\u00aditch\ufeff", "stupid bitch"),
        ("уоu аrе а lоsеr", "you are a loser"),  # Cyrillic у о а е
        ("κill yοurself", "kill yourself"),  # Greek kappa and omicron
        ("ΥΟU ІDIOT", "you idiot"),
        ("привет мир", "привет мир"),  # real Russian stays Russian
    ],
)
def test_normalize_undoes_homoglyphs_and_zero_width(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
    assert text_tokens(raw) == word_tokens(expected)


def test_mark_negation_scope() -> None:
    tokens = "youre not dumb you just missed class".split()
    assert mark_negation(tokens) == [
        "youre",
        "not",
        "~dumb",
        "~you",
        "just",
        "missed",
        "class",
    ]
    assert mark_negation(["i", "dont", "hate", "them", "at", "all", "ok"]) == [
        "i",
        "dont",
        "~hate",
        "~them",
        "~at",
        "all",
        "ok",
    ]
    plain = ["you", "are", "great"]
    assert mark_negation(plain) is plain


def test_negation_pipeline_is_scored_exactly() -> None:
    texts = ABUSE * 3 + CLEAN * 3 + ["you are not stupid", "you're not an idiot at all"]
    labels = [1] * (len(ABUSE) * 3) + [0] * (len(CLEAN) * 3) + [0, 0]
    model = build_pipeline(word_max_n=3, negation=True, word_min_df=1, char_min_df=1)
    model.fit(texts, np.array(labels))
    detector = Detector(model, {"version": "neg", "threshold": 0.6})
    probe = EDGE_TEXTS + texts + ["not stupid, just not", "no no no idiot never"]
    expected = model.predict_proba(probe)[:, 1]
    single = [detector.score(t) for t in probe]
    got = np.array([v.probability for v in single])
    assert np.max(np.abs(got - expected)) < 1e-9
    _assert_same_verdicts(detector.score_batch(probe), single)
    assert not any("~" in t for v in single for t in v.terms)


def test_terms_are_never_function_words_alone(tiny_artifact: Path) -> None:
    probes = ABUSE + [
        "you are you are you are",
        "to your face you are a loser",
        "are you going to the thing",
        "r u up?",
        "c u l8r",
        "y u do dat",
        "wit u 2nite",
    ]
    for detector in _detectors(tiny_artifact):
        for text in probes:
            for term in detector.score(text).terms:
                assert not is_function_term(term), (detector.version, text, term)
    assert is_function_term("to your") and is_function_term("you")
    # Chat spellings of function words are function words too.
    assert all(map(is_function_term, ["r", "u r", "c u", "wit u", "y u do dat"]))
    assert not is_function_term("kill urself") and not is_function_term("u r dumb")
    assert not is_function_term("kill yourself") and not is_function_term("loser")


CUE_TEXTS = [
    "nobody asked for ur opinion",
    "nobody asked for the receipts",
    "we made a new chat without you, obviously",
    "walk home alone today and see what happens",
    "@sam watch your back after school",
    "you are not worthless",
    "those people are vermin, all of them",
    "the rats in the science lab escaped",
]


def test_cue_terms_mark_targets_and_frames() -> None:
    opinion = cue_terms(mark_negation(text_tokens("nobody asked for ur opinion")))
    receipts = cue_terms(mark_negation(text_tokens("nobody asked for the receipts")))
    assert "@opinion" in opinion and "@#exclusion" in opinion
    assert not any(t.startswith("@") for t in receipts)
    # Negation marking reaches the cues: a negated frame word is a different term.
    assert "#demean" not in cue_terms(
        mark_negation(text_tokens("you are not worthless"))
    )
    assert "#demean" in cue_terms(mark_negation(text_tokens("you are worthless")))
    assert cue_terms(["hello"]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ur late again", True),
        ("you're not dumb, you just missed class", True),
        ("@sam nice goal", True),
        ("see u at 5", True),
        ("YOURSELF first", True),
        ("y\u043eu are a joke", True),  # a Cyrillic look-alike letter is undone first
        ("the queer student alliance meets friday", False),
        ("youth club is shut", False),
        ("calling her a slut is disgusting", False),
        ("walk home alone today and see what happens", False),
        ("", False),
    ],
)
def test_addresses_reader_reads_the_targeting_cue(text: str, expected: bool) -> None:
    assert addresses_reader(text) is expected
    # The same notion the targeting cues use: an addressed text with a content word
    # gets "@" terms, an unaddressed one never does.
    cues = cue_terms(mark_negation(text_tokens(text + " homework")))
    assert any(t.startswith("@") for t in cues) is expected


def test_cue_pipeline_is_scored_exactly() -> None:
    texts = ABUSE * 3 + CLEAN * 3 + CUE_TEXTS * 2
    labels = (
        [1] * (len(ABUSE) * 3) + [0] * (len(CLEAN) * 3) + [1, 0, 1, 1, 1, 0, 1, 0] * 2
    )
    model = build_pipeline(
        word_max_n=3, negation=True, cues=True, word_min_df=1, char_min_df=1
    )
    model.fit(texts, np.array(labels))
    detector = Detector(model, {"version": "cues", "threshold": 0.6})
    probe = EDGE_TEXTS + texts + ["you", "rats", "u u u vermin vermin", "#tag @you"]
    expected = model.predict_proba(probe)[:, 1]
    single = [detector.score(t) for t in probe]
    got = np.array([v.probability for v in single])
    assert np.max(np.abs(got - expected)) < 1e-9
    batch = detector.score_batch(probe)
    assert np.max(np.abs(np.array([v.probability for v in batch]) - expected)) < 1e-9
    _assert_same_verdicts(batch, single)
    for v in single:
        assert not any(t[0] in "@#~" or is_function_term(t) for t in v.terms), v.terms
    with pytest.raises(ValueError):
        build_pipeline(word_max_n=3, negation=False, cues=True)


def test_bounded_cache_answers_hits_without_calling_and_empties_when_full() -> None:
    """The scorer's caches: a hit never calls the function, and a cache that holds
    ``maxsize`` entries is emptied before the next one is stored (memory stays bounded
    whatever texts arrive)."""
    calls: list[int] = []

    @bounded_cache(3)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    assert [square(i) for i in (1, 2, 1, 3, 2)] == [1, 4, 1, 9, 4]
    assert calls == [1, 2, 3]
    assert square.cache_info().currsize == 3
    assert square(4) == 16  # a fourth key: the full cache is emptied first
    assert square.cache_info().currsize == 1
    assert square(1) == 1
    assert calls == [1, 2, 3, 4, 1]
    assert square.__name__ == "square"
    square.cache_clear()  # emptied from outside: it still holds maxsize entries after
    assert [square(i) for i in (5, 6, 7)] == [25, 36, 49]
    assert square.cache_info().currsize == 3
    assert square(8) == 64
    assert square.cache_info().currsize == 1


@pytest.mark.parametrize("source", ["tiny", "committed"])
def test_the_scorer_knows_its_vocabulary_words_before_the_first_text(
    source: str, tiny_artifact: Path
) -> None:
    """A new model warms both per-word caches with its vocabulary's words, so the first
    text made of ordinary words computes nothing per word (a cache miss would), and it
    scores as a second sight does (and as scikit-learn does)."""
    if source == "committed" and COMMITTED is None:
        pytest.skip("no committed model")
    pipeline, _ = load_artifact(tiny_artifact if source == "tiny" else COMMITTED)
    model = CompiledModel(pipeline)
    unigrams = [
        t
        for t in pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
        if t.isascii() and t.isalpha() and len(t) >= 3 and t not in NEGATION_CUES
    ]
    assert len(unigrams) >= 8
    assert model.token_info.cache_info().currsize >= len(unigrams)
    text = " ".join(sorted(unigrams)[:8])
    tokens_before = model.token_info.cache_info()
    chunks_before = _chunk_tokens.cache_info()
    first = model.decision(text)
    assert model.token_info.cache_info().misses == tokens_before.misses
    assert _chunk_tokens.cache_info().misses == chunks_before.misses
    assert _chunk_tokens.cache_info().hits == chunks_before.hits + 8
    assert model.decision(text) == first
    expected = pipeline.predict_proba([text])[0, 1]
    assert abs(1.0 / (1.0 + np.exp(-first[0])) - expected) < 1e-9


def test_warming_makes_room_for_every_word_it_warms() -> None:
    """The chunk cache is shared by every model in a process; warming a model's words
    into a nearly full cache empties it first, so no warmed word is emptied out halfway
    (the full cache would otherwise be emptied at its limit, among the new words)."""
    size = _chunk_tokens.maxsize
    _chunk_tokens.cache_clear()
    for i in range(size - 10):
        _chunk_tokens(f"filler{i}")
    assert _chunk_tokens.cache_info().currsize == size - 10
    words = [f"warmed{i}" for i in range(100)]
    warm_text_tokens(words)
    before = _chunk_tokens.cache_info()
    assert before.currsize == 100
    assert text_tokens(" ".join(words)) == words
    after = _chunk_tokens.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 100)


# Chunks whose trailing punctuation or apostrophes the chunk cache reads from the bare
# word's entry: plain words, leet (where "!" may stand for a letter), numbers, and the
# "www" that trailing dots turn into a URL.
_PUNCTUATED_WORDS = [
    "dumb", "you", "loser", "can", "im", "l0ser", "sh1t", "k1ll", "b1tch", "1st", "12",
    "3", "a1", "u", "h8", "2day", "www", "awww", "wwwx", "http", "com", "kil", "idio",
]  # fmt: skip
_TRAILING_SUFFIXES = [
    ",", ".", "!", "?", ";", ":", ")", '"', "'", "!!", "!!!", "?!", "!?", "...", "..",
    ",)", '."', "'s", "!1", "?1", ")!", ":)", ";)", "!.", "?.", "'.", "`", "!!'",
]  # fmt: skip


@pytest.mark.parametrize("word", _PUNCTUATED_WORDS)
def test_a_chunk_with_punctuation_after_a_word_has_the_tokens_normalisation_gives(
    word: str,
) -> None:
    from cyberscan.detector.features import _TRAILING

    # Every character the cache treats as trailing, alone, doubled and after "!".
    own = [c * n for c in _TRAILING for n in (1, 2)] + ["!" + c for c in _TRAILING]
    chunks = ["'" + word]
    for suffix in _TRAILING_SUFFIXES + own:
        chunks += [word + suffix, word[:1] + "'" + word[1:] + suffix]
    for chunk in chunks:
        _chunk_tokens.cache_clear()
        bare_first = _chunk_tokens(chunk)
        assert bare_first == tuple(word_tokens(normalize_text(chunk))), chunk
        _chunk_tokens.cache_clear()
        _chunk_tokens(word)  # the word's entry first, as after warming
        assert _chunk_tokens(chunk) == bare_first, chunk


def test_a_word_seen_bare_is_not_normalised_again_with_punctuation_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "dumb," "dumb!!" and "can't" are read from the entries of "dumb" and "cant",
    so a word the scorer warmed is not normalised again on first sight."""
    from cyberscan.detector import features

    calls: list[str] = []

    def counting(text: str) -> str:
        calls.append(text)
        return normalize_text(text)

    monkeypatch.setattr(features, "normalize_text", counting)
    _chunk_tokens.cache_clear()
    warm_text_tokens(["dumb", "cant"])
    assert calls == ["dumb", "cant"]
    got = text_tokens("so dumb, dumb!! dumb?! can't can't. cant")
    assert got == ["so", "dumb", "dumb", "dumb", "cant", "cant", "cant"]
    assert calls == ["dumb", "cant", "so"]
    assert text_tokens("www.. awww..") == word_tokens(normalize_text("www.. awww.."))
    assert "www.." in calls
