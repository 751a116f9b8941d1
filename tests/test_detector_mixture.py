"""Gated experts (``mixture.GatedExperts``): the fast scorer equals scikit-learn on
both of its paths, the router really decides, and the artifact round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import LogisticRegression

from cyberscan.detector import Detector
from cyberscan.detector.artifact import ArtifactError, save_artifact
from cyberscan.detector.features import (
    is_function_term,
    normalized,
    raw_char_grams,
    raw_char_ngrams,
)
from cyberscan.detector.mixture import GatedExperts, _balanced, mix, mix_one
from cyberscan.detector.pipeline import build_pipeline, trailing_widths
from train.train import fit_pipeline

CHAT = [
    ("you are a stupid idiot", 1),
    ("go kill yourself loser", 1),
    ("nobody likes you, you ugly freak", 1),
    ("shut up you worthless moron", 1),
    ("we made a new chat without you obviously", 1),
    ("answer me or those pics go to your whole class", 1),
    ("see you at the library at noon", 0),
    ("thanks for the notes, you are the best", 0),
    ("holy shit that goal was unreal", 0),
    ("can you send me the slides please", 0),
    ("i am making pasta for dinner tonight", 0),
    ("gg you absolutely destroyed me", 0),
]
# Two "corpus styles" with their own conventions: RT-tweets where any profanity counts
# as offensive, and forum comments where only insults at a person count.
TWEETS = [
    ("RT @user: this bitch crazy lmao", 1),
    ("RT @user: shit is wild on the train", 1),
    ("RT @user: damn hoes everywhere", 1),
    ("RT @user: fuck mondays man", 1),
    ("RT @user: good morning sunshine", 0),
    ("RT @user: game tonight at eight", 0),
    ("RT @user: new album drops friday", 0),
    ("RT @user: coffee first then class", 0),
]
COMMENTS = [
    ('"You sir are an ignorant fool and a liar."', 1),
    ('"Anyone who believes this is a complete moron."', 1),
    ('"Go back to school, you illiterate clown."', 1),
    ('"The council vote was postponed until march."', 0),
    ('"Holy shit, the tax rate went up again."', 0),
    ('"Great article, thanks for the research."', 0),
]
PROBES = [
    "",
    "you",
    "RT @user: this shit crazy",
    '"You are an ignorant fool."',
    "you absolute idiot, nobody likes you",
    "see you at the library",
    "idiot idiot idiot moron moron",
    "RT @user: RT @user: fuck fuck mondays mondays",
    "thanks thanks for the notes notes",
    "x" * 300,
]


def _rows(
    styles: tuple[list[tuple[str, int]], ...] = (CHAT, TWEETS, COMMENTS),
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The texts, labels and style (0 chat, then 1, 2, ...) that :func:`_fit` fits on:
    each style's rows three times."""
    rows = [row for style in styles for row in style * 3]
    domain = np.repeat(np.arange(len(styles)), [len(style) * 3 for style in styles])
    return [t for t, _ in rows], np.array([y for _, y in rows]), domain


def _clf_input(model, texts: list[str]):
    """What the fitted ``model``'s classifier reads for ``texts``."""
    steps = model.named_steps
    return steps["nb"].transform(
        steps["features"].transform(steps["normalize"].transform(texts))
    )


def _fit(
    margin: float,
    on_tfidf: bool = False,
    styles: tuple[list[tuple[str, int]], ...] = (CHAT, TWEETS, COMMENTS),
    gate_tags: bool = False,
    expert_affine: dict[int, tuple[float, float]] | None = None,
    expert_borrow: dict[int, dict[int, float]] | None = None,
    raw_chars: float = 0.0,
    bare_to_chat: bool = True,
    short_to_chat: int = 0,
) -> tuple[object, list[str]]:
    """A gated model on ``styles`` (chat first, then one corpus style each), fitted by
    ``train.train.fit_pipeline``, the fit training uses, with these expert settings."""
    texts, labels, domain = _rows(styles)
    params = dict(
        word_max_n=3,
        negation=True,
        word_min_df=1,
        char_min_df=1,
        experts=True,
        route_C=10.0,
        chat_prior=0.0,
        margin=margin,
        gate_tags=gate_tags,
        raw_chars=raw_chars,
        raw_min_df=1,
    )
    model = fit_pipeline(
        [normalized(t) for t in texts],  # as train.train normalises, once per text
        labels,
        np.ones(len(texts)),
        params,
        chat=domain == 0,
        chat_copy=0.0,
        domain=domain,
        on_tfidf=on_tfidf,
        expert_affine=expert_affine or {},
        expert_borrow=expert_borrow or {},
        bare_to_chat=bare_to_chat,
        short_to_chat=short_to_chat,
    )
    return model, texts


def _assert_scorer_exact(model, tmp_path: Path, probes: list[str]) -> None:
    """Save and load ``model``; both scorer paths give its probabilities to 1e-9."""
    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path, card)
    detector = Detector.from_path(path)
    expected = model.predict_proba(probes)[:, 1]
    single = np.array([detector.score(t).probability for t in probes])
    batch = np.array([v.probability for v in detector.score_batch(probes)])
    assert np.max(np.abs(single - expected)) < 1e-9
    assert np.max(np.abs(batch - expected)) < 1e-9


@pytest.fixture(
    scope="module", params=[-50.0, 0.0, 50.0], ids=["all-routed", "split", "all-chat"]
)
def mixture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    model, texts = _fit(request.param)
    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path_factory.mktemp("models"), card)
    return Detector.from_path(path), texts + PROBES


def test_fast_scorer_equals_sklearn_on_both_paths(mixture) -> None:
    detector, texts = mixture
    expected = detector.pipeline.predict_proba(texts)[:, 1]
    single = np.array([detector.score(t).probability for t in texts])
    batch = np.array([v.probability for v in detector.score_batch(texts)])
    assert np.max(np.abs(single - expected)) < 1e-9
    assert np.max(np.abs(batch - expected)) < 1e-9


def test_the_router_decides_which_texts_need_the_experts() -> None:
    model, texts = _fit(0.0)
    clf = model.named_steps["clf"]
    assert clf.styles_ == [1, 2]
    # Rows: a, b_1, b_2, e_0, e_1, e_2; the routes see the word block only.
    assert clf.coef_.shape[0] == 6
    words = clf.route_columns_
    assert clf.coef_[:3, words:].nnz == 0
    rows = clf.decision_rows(model[:-1].transform(texts))
    chat_side = rows[: len(CHAT) * 3, 0]
    corpus_side = rows[len(CHAT) * 3 :, 0]
    assert (chat_side < 0).mean() > 0.8 and (corpus_side >= 0).mean() > 0.8
    # Routed texts get the mixture, the others the chat model alone.
    final = clf.decision_function(model[:-1].transform(texts))
    routed = rows[:, 0] >= 0
    assert np.allclose(final[~routed], rows[~routed, 3])
    assert not np.allclose(final[routed], rows[routed, 3])


# Bare replies: every word term a function word ("with" is not in the tiny vocabulary,
# "user" is, from the tweets' "@user").
BARE = ["you", "and you?", "YOU!!", "for you", "with you", "you you you", "@user you"]


def test_a_bare_reply_is_scored_by_the_chat_model_alone(tmp_path: Path) -> None:
    """v31: a text whose word terms are all function words never reaches the experts,
    in scikit-learn and in the scorer; every other text scores as without the rule,
    and a model fitted before the rule existed scores as it always did."""
    model, texts = _fit(-50.0)  # every text past the router
    plain, _ = _fit(-50.0, bare_to_chat=False)
    probes = BARE + texts + PROBES
    clf = model.named_steps["clf"]
    x = _clf_input(model, probes)
    bare = clf.bare(x)
    assert bare.tolist() == [t in BARE or t == "you" for t in probes]
    chat = clf.decision_rows(x)[:, len(clf.intercept_) // 2] + clf.shift_
    final = clf.decision_function(x)
    assert np.allclose(final[bare], chat[bare])
    before = plain.named_steps["clf"].decision_function(x)
    assert np.array_equal(final[~bare], before[~bare])
    assert not np.allclose(final[bare], before[bare])
    _assert_scorer_exact(model, tmp_path / "rule", probes)
    # An artifact from before v31 has no such attribute: no text is bare.
    del clf.function_columns_
    assert clf.bare(x) is None
    assert np.array_equal(clf.decision_function(x), before)
    _assert_scorer_exact(model, tmp_path / "old", probes)


# Texts of few word terms: none ("", emoji, a word out of the vocabulary), one ("idiot",
# "idiot idiot" too: a repeated word is one term and its bigram is not in the
# vocabulary), two ("coffee class"), three ("coffee first", with its bigram) and more.
FEW_TERMS = [
    "",
    "\U0001f602\U0001f602",
    "zzqx",
    "idiot",
    "idiot idiot",
    "coffee",
    "first",
    "coffee class",
    "coffee first",
    "ignorant fool",
    "RT @user: fuck",
    "you absolute idiot, nobody likes you",
]


def test_a_text_of_few_word_terms_is_scored_by_the_chat_model_alone(
    tmp_path: Path,
) -> None:
    """v45: a text with at most `short_terms` word terms never reaches the experts, in
    scikit-learn and in the scorer; every other text scores as without the rule, and
    a model fitted before the rule existed scores as it always did."""
    model, texts = _fit(-50.0, short_to_chat=3)  # every text past the router
    plain, _ = _fit(-50.0)
    probes = FEW_TERMS + texts + PROBES
    clf = model.named_steps["clf"]
    x = _clf_input(model, probes)
    terms = sp.csr_matrix(x)[:, : clf.route_columns_].getnnz(axis=1)
    assert sorted(set(terms[: len(FEW_TERMS)].tolist()))[:4] == [0, 1, 2, 3]
    alone = clf.bare(x)
    assert alone.tolist() == ((terms <= 3) | plain.named_steps["clf"].bare(x)).tolist()
    chat = clf.decision_rows(x)[:, len(clf.intercept_) // 2] + clf.shift_
    final = clf.decision_function(x)
    assert np.allclose(final[alone], chat[alone])
    before = plain.named_steps["clf"].decision_function(x)
    assert np.array_equal(final[~alone], before[~alone])
    assert not np.allclose(final[terms <= 3], before[terms <= 3])
    _assert_scorer_exact(model, tmp_path / "rule", probes)
    # An artifact from before v45 has no such attribute: it scores as it always did.
    del clf.short_terms_
    assert np.array_equal(clf.decision_function(x), before)
    _assert_scorer_exact(model, tmp_path / "old", probes)


def test_mix_one_equals_mix() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(0, 4, size=(200, 6))
    rows[:5] *= 60  # near-certain experts: the logit must stay finite
    for margin in (-50.0, 0.0, 50.0):
        vector = mix(rows, margin, 0.3)
        one = np.array([mix_one(r.tolist(), margin, 0.3) for r in rows])
        assert np.all(np.isfinite(vector))
        assert (
            np.max(np.abs(1 / (1 + np.exp(-vector)) - 1 / (1 + np.exp(-one)))) < 1e-12
        )


def test_without_styles_it_is_the_chat_model_alone() -> None:
    texts = [t for t, _ in CHAT] * 2
    labels = np.array([y for _, y in CHAT] * 2)
    plain = build_pipeline(word_min_df=1, char_min_df=1).fit(texts, labels)
    gated = build_pipeline(word_min_df=1, char_min_df=1, experts=True).fit(
        texts, labels
    )
    clf = gated.named_steps["clf"]
    assert clf.coef_.shape[0] == 1 and clf.styles_ == []
    # Same logistic regression; the gated model keeps float32 weights.
    diff = gated.predict_proba(texts)[:, 1] - plain.predict_proba(texts)[:, 1]
    assert np.max(np.abs(diff)) < 1e-5


def test_a_shifted_chat_only_model_scores_alike_one_by_one_and_in_batches(
    tmp_path: Path,
) -> None:
    texts = [t for t, _ in CHAT] * 2
    labels = np.array([y for _, y in CHAT] * 2)
    gated = build_pipeline(word_min_df=1, char_min_df=1, experts=True).fit(
        texts, labels
    )
    gated.named_steps["clf"].shift_ = -0.8  # what train.fit_final does
    _assert_scorer_exact(gated, tmp_path, texts + PROBES)


def test_reasons_are_content_words_on_both_paths(mixture) -> None:
    detector, _ = mixture
    for text in ("you absolute idiot, nobody likes you", "RT @user: you stupid bitch"):
        verdict = detector.score(text)
        assert verdict.terms, text
        assert not any(is_function_term(t) for t in verdict.terms)


def test_shift_moves_every_path_alike(tmp_path: Path) -> None:
    model, texts = _fit(0.0)
    clf = model.named_steps["clf"]
    before = clf.decision_function(model[:-1].transform(texts))
    clf.shift_ = 0.7
    after = clf.decision_function(model[:-1].transform(texts))
    assert np.allclose(after - before, 0.7)
    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path, card)
    detector = Detector.from_path(path)
    got = np.array([detector.score(t).probability for t in texts])
    assert np.max(np.abs(got - model.predict_proba(texts)[:, 1])) < 1e-9


def test_gated_experts_is_a_plain_sklearn_estimator() -> None:
    clf = GatedExperts(expert_C=3.0, margin=-1.5)
    assert clf.get_params()["expert_C"] == 3.0
    assert sklearn.base.clone(clf).get_params()["margin"] == -1.5


def test_experts_fitted_on_the_tfidf_features_still_read_the_scaled_ones(
    tmp_path: Path,
) -> None:
    model, texts = _fit(-50.0, on_tfidf=True)
    steps = model.named_steps
    clf = steps["clf"]
    tfidf = steps["features"].transform(steps["normalize"].transform(texts))  # as _fit
    z = steps["nb"].transform(tfidf)
    r = steps["nb"].r_
    scale = steps["nb"].inverse_scale()
    assert np.array_equal(scale[r == 0], np.zeros(int((r == 0).sum())))
    keep = (r != 0).astype(float)
    assert np.allclose(
        (z @ sp.diags(scale)).toarray(), (tfidf @ sp.diags(keep)).toarray()
    )
    # Expert e_1 (row 4 of a, b_1, b_2, e_0, e_1, e_2) is the logistic regression of
    # style 1's rows on the TF-IDF features, read through the scaled ones.
    rows = np.arange(len(CHAT) * 3, len(CHAT) * 3 + len(TWEETS) * 3)
    y = np.array([label for _, label in TWEETS] * 3)
    # (the TF-IDF columns as the model sees them: z rescaled, equal to them as above)
    x = sp.csr_matrix(z @ sp.diags(scale))[rows]
    reference = LogisticRegression(
        C=clf.expert_C, solver="liblinear", max_iter=2000, random_state=42
    ).fit(x, y, _balanced(y))
    got = clf.decision_rows(z[rows])[:, 4]
    assert np.max(np.abs(got - reference.decision_function(x))) < 1e-4
    # The router a still reads the scaled features as before; and the scorer is exact.
    plain, _ = _fit(-50.0)
    assert np.allclose(
        plain.named_steps["clf"].coef_[0].toarray(), clf.coef_[0].toarray()
    )
    assert not np.allclose(
        plain.named_steps["clf"].coef_[4].toarray(), clf.coef_[4].toarray()
    )
    _assert_scorer_exact(model, tmp_path, texts + PROBES)


# A third "corpus style" whose rows all hold the masked mention OLID uses ("@USER").
MASKED = [
    ("@USER you are a clown and everyone knows it", 1),
    ("@USER shut up, nobody asked you", 1),
    ("@USER she is a liar and a fraud", 1),
    ("@USER great point, thanks for sharing", 0),
    ("@USER see you at the rally on friday", 0),
    ("@USER what time does the game start", 0),
]
TAGGED_PROBES = [
    "@USER you clown",
    "@User @USER see you friday",
    "RT @USER: this shit crazy",
    "＠USER you are a liar",  # full-width "@": normalised to "@user"
    "mail me at x@user.com",
    "@username you clown",
    "@USER",
]


def _fit_tagged(
    gate_tags: bool, margin: float, raw_chars: float = 0.0
) -> tuple[object, list[str]]:
    # Tweets with real handles: only the masked style holds the tag.
    named = [(t.replace("@user", "@dj_mike"), y) for t, y in TWEETS]
    return _fit(
        margin, True, (CHAT, named, COMMENTS, MASKED), gate_tags, raw_chars=raw_chars
    )


def test_the_tag_column_is_read_by_the_style_gate_alone() -> None:
    plain, texts = _fit_tagged(False, -50.0)
    tagged, _ = _fit_tagged(True, -50.0)
    p, t = plain.named_steps, tagged.named_steps
    # The word and char columns, their ratios and every weight on them are unchanged.
    assert np.array_equal(t["nb"].r_[:-1], p["nb"].r_)
    assert t["nb"].r_[-1] == 1.0
    coef = t["clf"].coef_.toarray()
    assert np.array_equal(coef[:, :-1], p["clf"].coef_.toarray())
    assert np.array_equal(t["clf"].intercept_, p["clf"].intercept_)
    # Only the style gate b_1 .. b_3 (rows 1-3 of a, b_1..b_3, e_0..e_3) reads the
    # tag, and it points to the masked style.
    tag = coef[:, -1]
    assert np.count_nonzero(tag[[0, 4, 5, 6, 7]]) == 0
    assert tag[3] > 0 > max(tag[1], tag[2])
    # A text without the tag scores alike; a routed tagged text leans to style 3.
    untagged = [x for x in texts + PROBES if "@user" not in x.lower()]
    assert np.array_equal(tagged.predict_proba(untagged), plain.predict_proba(untagged))
    gate = t["clf"].decision_rows(
        t["nb"].transform(t["features"].transform(["@USER you clown"]))
    )[0, 1:4]
    assert int(np.argmax(gate)) == 2


@pytest.mark.parametrize("margin", [-50.0, 0.0, 50.0])
def test_a_tagged_gate_is_scored_exactly(margin: float, tmp_path: Path) -> None:
    model, texts = _fit_tagged(True, margin)
    _assert_scorer_exact(model, tmp_path, texts + PROBES + TAGGED_PROBES)


def test_the_tag_is_found_as_the_pipeline_finds_it() -> None:
    from cyberscan.detector.features import (
        has_user_tag,
        normalize_text,
        text_has_user_tag,
        text_tokens,
    )

    expected = [True, True, True, True, False, False, True]
    assert [has_user_tag(normalize_text(t)) for t in TAGGED_PROBES] == expected
    assert [text_has_user_tag(t) for t in TAGGED_PROBES] == expected
    for text in PROBES + [t for t, _ in CHAT + COMMENTS]:
        assert text_has_user_tag(text) is has_user_tag(normalize_text(text))
    # The scorer skips the tag test for a text without tokens: a tag is always a token.
    for text in TAGGED_PROBES:
        if text_has_user_tag(text):
            assert "user" in text_tokens(normalize_text(text))


def test_gate_tags_need_the_experts() -> None:
    with pytest.raises(ValueError, match="gate_tags"):
        build_pipeline(gate_tags=True)


def test_an_expert_affine_rescales_that_expert_alone(tmp_path: Path) -> None:
    """``expert_affine={2: (a, b)}`` turns e_2 into a e_2 + b: its weights scaled by a
    (float32, as stored), its intercept a i + b, every other row as fitted."""
    plain, texts = _fit(0.0, on_tfidf=True)
    mapped, _ = _fit(0.0, on_tfidf=True, expert_affine={2: (1.4, 1.5)})
    p, m = plain.named_steps["clf"], mapped.named_steps["clf"]
    # Rows: a, b_1, b_2, e_0, e_1, e_2.
    before, after = p.coef_.toarray(), m.coef_.toarray()
    assert np.array_equal(after[:5], before[:5])
    assert np.array_equal(m.intercept_[:5], p.intercept_[:5])
    assert np.allclose(after[5], 1.4 * before[5], rtol=1e-6, atol=0)
    assert m.intercept_[5] == pytest.approx(1.4 * p.intercept_[5] + 1.5, abs=1e-12)
    # So e_2's ranking is unchanged, and a routed text moves only by e_2's gate share.
    all_texts = texts + PROBES
    x = _clf_input(mapped, all_texts)
    m_rows, p_rows = m.decision_rows(x), p.decision_rows(x)
    assert np.allclose(m_rows[:, 5], 1.4 * p_rows[:, 5] + 1.5, atol=1e-5)
    assert np.array_equal(m_rows[:, :5], p_rows[:, :5])
    # A text the router calls chat (a < margin 0) scores exactly as before.
    chat = [t for t, route in zip(all_texts, m_rows[:, 0], strict=True) if route < 0]
    assert 0 < len(chat) < len(all_texts)
    assert np.array_equal(mapped.predict_proba(chat), plain.predict_proba(chat))
    _assert_scorer_exact(mapped, tmp_path, texts + PROBES)


def test_an_expert_borrows_another_styles_rows_and_nothing_else_changes(
    tmp_path: Path,
) -> None:
    """``expert_borrow={1: {2: w}}`` fits e_1 on the comments' rows as well, balanced
    within them and weighing w times the tweets' own rows; every other row is as
    fitted, and a share of 0 is no borrowing at all."""
    plain, texts = _fit(0.0)
    borrowed, _ = _fit(0.0, expert_borrow={1: {2: 0.5}})
    unused, _ = _fit(0.0, expert_borrow={1: {2: 0.0}})
    p, b = plain.named_steps["clf"], borrowed.named_steps["clf"]
    # Rows: a, b_1, b_2, e_0, e_1, e_2.
    before, after = p.coef_.toarray(), b.coef_.toarray()
    keep = [0, 1, 2, 3, 5]
    assert np.array_equal(after[keep], before[keep])
    assert np.array_equal(b.intercept_[keep], p.intercept_[keep])
    assert not np.allclose(after[4], before[4])
    assert np.array_equal(unused.named_steps["clf"].coef_.toarray(), before)
    # e_1 is the logistic regression on exactly those rows and weights.
    _, y, domain = _rows()
    z = _clf_input(borrowed, texts)
    own, other = domain == 1, domain == 2
    weight = np.concatenate(
        [_balanced(y[own]), _balanced(y[other]) * 0.5 * own.sum() / other.sum()]
    )
    picked = np.concatenate([np.flatnonzero(own), np.flatnonzero(other)])
    by_hand = LogisticRegression(
        C=b.expert_C, solver="liblinear", max_iter=b.max_iter, random_state=42
    ).fit(z[picked], y[picked], weight)
    assert np.array_equal(after[4], by_hand.coef_[0].astype(np.float32))
    assert b.intercept_[4] == pytest.approx(by_hand.intercept_[0], abs=1e-12)
    _assert_scorer_exact(borrowed, tmp_path, texts + PROBES)


@pytest.mark.parametrize("borrow", [{1: {0: 0.5}}, {1: {1: 0.5}}], ids=["chat", "self"])
def test_an_expert_borrows_only_another_corpus_style(borrow) -> None:
    """Chat rows (style 0) or the expert's own style are refused, not quietly used."""
    with pytest.raises(ValueError, match="other corpus styles"):
        _fit(0.0, expert_borrow=borrow)


def test_chat_has_no_expert_to_rescale() -> None:
    """An affine for style 0 (chat) is refused, not quietly ignored."""
    with pytest.raises(ValueError, match="only corpus styles"):
        _fit(0.0, expert_affine={0: (2.0, 0.0)})


# What the raw-character block sees and normalisation does not: no words at all, case,
# emoji, runs of whitespace, look-alike letters, zero-width characters, entities.
RAW_PROBES = [
    "!!!",
    "😂😂😂",
    "   ",
    "RT @user: THIS SHIT CRAZY!!!",
    "rt @user this shit crazy",
    '"You are an ignorant fool."\n\n\t"Truly."',
    "yоu idiot",  # Cyrillic "о"
    "you\u200bidiot",
    "&amp; &#8220;lol&#8221;",
    "lone \ud83d surrogate",
    "check https://example.com/notes or mail sam@uni.example.edu",
    "Ω≈ç √∫ 𝕏 ",  # a character outside the basic plane, and a trailing space
]


def test_raw_characters_are_read_by_the_experts_alone() -> None:
    """``raw_chars``: the chat model, the router and the style gate are what they are
    without the block, weight for weight, so a text the router calls chat scores
    exactly alike; only the experts read it."""
    for margin in (0.0, 50.0):
        plain, texts = _fit_tagged(True, margin)
        with_raw, _ = _fit_tagged(True, margin, raw_chars=0.7)
        p, r = plain.named_steps, with_raw.named_steps
        raw, tags = trailing_widths(r["features"])
        assert raw > 0 and tags == 1
        # The word and char columns keep their ratios; the raw ones pass through.
        assert np.array_equal(r["nb"].r_[: -raw - 1], p["nb"].r_[:-1])
        assert np.all(r["nb"].r_[-raw - 1 :] == 1.0)
        before, after = p["clf"].coef_.toarray(), r["clf"].coef_.toarray()
        # Rows: a, b_1 .. b_3, e_0, e_1 .. e_3; raw columns sit before the tag.
        words_chars = np.r_[0 : before.shape[1] - 1]
        shared = [0, 1, 2, 3, 4]
        assert np.array_equal(
            after[shared][:, words_chars], before[shared][:, words_chars]
        )
        assert np.array_equal(after[shared, -1], before[shared, -1])
        assert np.array_equal(r["clf"].intercept_[shared], p["clf"].intercept_[shared])
        assert np.count_nonzero(after[shared][:, -raw - 1 : -1]) == 0
        assert all(np.count_nonzero(after[k, -raw - 1 : -1]) for k in (5, 6, 7))
    # margin 50: every text is chat, so every probability is the plain model's.
    probes = texts + PROBES + RAW_PROBES
    assert np.array_equal(with_raw.predict_proba(probes), plain.predict_proba(probes))


@pytest.mark.parametrize("gate_tags", [False, True], ids=["untagged", "tagged"])
@pytest.mark.parametrize("margin", [-50.0, 0.0, 50.0])
def test_a_raw_character_block_is_scored_exactly(
    margin: float, gate_tags: bool, tmp_path: Path
) -> None:
    model, texts = _fit_tagged(gate_tags, margin, raw_chars=0.7)
    _assert_scorer_exact(model, tmp_path, texts + PROBES + TAGGED_PROBES + RAW_PROBES)


def test_the_scorer_refuses_a_raw_block_the_chat_model_reads(tmp_path: Path) -> None:
    """The fast path sums the route and the chat model without the raw block, so an
    artifact where either reads it is refused, not scored wrongly."""
    model, _ = _fit(0.0, True, raw_chars=0.7)
    clf = model.named_steps["clf"]
    coef = clf.coef_.toarray()
    coef[3, -1] = 0.5  # e_0 (chat), last raw column (no tag block here)
    clf.coef_ = sp.csr_matrix(coef)
    card = {"sklearn_version": sklearn.__version__, "threshold": 0.6}
    path, _ = save_artifact(model, tmp_path, card)
    with pytest.raises(ArtifactError, match="raw block must be read by the experts"):
        Detector.from_path(path)


def test_raw_characters_need_the_experts_and_a_normalised_text() -> None:
    with pytest.raises(ValueError, match="raw_chars"):
        build_pipeline(raw_chars=0.7)
    assert raw_char_grams("Hi  U\n\t!") == [
        *"Hi U !",
        *["Hi", "i ", " U", "U ", " !"],
    ]
    # URLs and e-mail addresses are spaces: their characters name a platform.
    assert raw_char_grams("A https://t.co/x9 b@c.org WWW.x.io B") == raw_char_grams(
        "A B"
    )
    text = normalized("Ur SO dumb!!!")
    assert text == "ur so dumb!" and text.raw == "Ur SO dumb!!!"
    assert raw_char_ngrams(text) == raw_char_grams("Ur SO dumb!!!")
    with pytest.raises(TypeError, match="Normalized"):
        raw_char_ngrams("ur so dumb")
