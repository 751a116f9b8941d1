"""Behaviour of the committed model at the app's threshold (BULLYING_THRESHOLD = 0.6).

These are capability tests in the style of CheckList / Made-With-ML: they pin what the
model must do on unseen, hand-written chat, independent of any corpus metric.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config import current_classifier
from cyberscan.detector import Detector, load_detector

pytestmark = pytest.mark.model

THRESHOLD = 0.6
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def detector() -> Detector:
    path = current_classifier(REPO / "models")
    assert path, "models/CURRENT names no committed model"
    return load_detector(path)


CLEAR_ABUSE = [
    "go kill yourself loser",
    "you are a worthless piece of shit",
    "nobody likes you, you fat ugly freak",
    "shut up you stupid bitch",
    "you're so pathetic, everyone laughs at you",
    "kill yourself, nobody would care",
    "you disgusting whore",
    "you're a dumb retard",
    "i'm going to beat you up after class",
    "fuck you, you worthless idiot",
    # obfuscated
    "go k1ll yourself",
    "you're a l0ser",
    "f u c k you",
    "you f*cking b!tch",
    "ur sooo stupiddd",
    "YOU ARE A WORTHLESS IDIOT",
    "shut up 1d10t",
    # the kinds issue 9 found missed: coercion, exclusion, self-harm without "kill",
    # homoglyphs and zero-width characters, demeaning without swear words
    "answer me or those pics go to your whole class",
    "we made a new chat without you, obviously",
    "the world would be lighter without you",
    "you're such an \u0456d\u0456\u043et",
    "what a lo\u200bser",
    "nobody ever asked for your opinion, honestly",
    # a threat with no abusive word at all: missed by v2 (0.28) ... v15 (0.56), each
    # under 0.6; v17 is the first served model to flag it (0.62), v19 0.68
    "walk home alone today and see what happens",
]

CLEAN_AND_HARD_NEGATIVE = [
    "hey, are we still meeting at the library at 4?",
    "thanks for sending the notes, you're a lifesaver",
    "happy birthday! have an amazing day",
    "can someone explain question 3 of the problem set",
    # figurative violence
    "I could kill for a coffee",
    "this assignment is killing me",
    "that joke killed me lol",
    "my feet are killing me after that hike",
    # self-deprecation
    "I'm such an idiot lol, I forgot my keys again",
    "ugh I'm so dumb, I studied the wrong chapter",
    # friendly teasing
    "you nerd, of course you finished early",
    # A known miss of v1-v12 (v12: 0.75): 'shut up' is almost always abuse in the
    # corpora. v13 scores it 0.20, but chat_v25 holds "shut up you're hilarious" as
    # friendly banter (its writer never saw this file), so this is partly memory; the
    # unseen variant "shut up, you're so funny" went 0.76 -> 0.37 (docs/model.md, v13).
    "shut up, you're hilarious",
    # identity words used neutrally
    "the muslim student association meets today",
    "my gay cousin is visiting",
    "the black student union is hosting a movie night",
    "my jewish roommate invited me to passover dinner",
    "the women in engineering club meets tonight",
    # the kinds issue 9 found flagged: negation, a victim quoting abuse, counter-speech,
    # trash talk, undirected profanity, identity words used neutrally
    "you're not dumb, you just missed class",
    "someone called me a fat loser in the group chat, what do I do",
    "calling her a slut is disgusting",
    "gg you absolutely destroyed me",
    "holy shit that goal",
    "the queer student alliance meets friday",
    # ordinary text with numbers, email, URL
    "class of 2024 reunion is at 7pm in room 101",
    "email me at sam.lee@uni.example.edu or check https://example.com/notes",
]


# Short replies that speak to their reader with nothing else in them, written before
# v29 was trained (docs/model.md, "v29"). v10 ... v28 flag all twelve ("you" alone 0.996,
# "and you?" 0.89, "for you" 0.93 under v25). v29, trained on a writer of short messages
# of both labels, flags fewer short replies on two blind sets (7.4% -> 4.7%, 10.5% ->
# 8.1%) but still ten of these. v31 scores a reply made of function words only by the
# chat model alone ("v31"), which clears four. v32, trained on a second writer of short
# messages, clears the four "again" replies ("v32"); v33, trained on a third, on the small
# words around "you", clears "for you" ("v33"). One remained: "first" is a content
# word, so the router still sent "you first" to the experts, a known miss up to v43;
# v45 scores a text of three word terms or fewer by the chat model alone ("v45").
# A known miss is kept in these lists (strict: a model that passes it makes this file
# say so) rather than left out.
KNOWN_MISS = pytest.mark.xfail(
    strict=True, reason="a known miss of the served model (docs/model.md, v55)"
)
SHORT_CLEAN = [
    "and you?",
    "what about you",
    "you first",
    "for you",
    "with you",
    "up to you",
    "you",
    "you again?",
    "see you again at school",
    "try again at 7",
    "again at 5?",
    "back at you",
]

# The same miss alone and in two-word stock phrases, found by an outside audit in the
# forty-third session ("first" 0.905 under v43 earned a strike): the router sent each
# to the tweets expert (docs/model.md, "After v43: one- and two-word texts past the
# router"); v45 scores them by the chat model alone. "you go first" and "my first car"
# were under the line before.
FIRST_CLEAN = [
    "first",
    "first!!",
    "ladies first",
    "safety first",
    "you go first",
    "my first car",
    "first time trying sushi",
]

SHORT_ABUSE = [
    "you idiot",
    "ur pathetic",
    "shut up loser",
    "nobody likes you",
    "not you tho",
    "ugly af",
    "kys",
    "u r trash",
]

# Group hate with the group word or the hateful word disguised, beside clean messages
# that disguise the same group words (docs/model.md, "v34"). Written while v34 trained,
# before it scored anything, from no data file. The served v33 scores two under the line
# ("j3ws control the banks, wake up" 0.59, "r3fugees are parasites" 0.43; v34 and v35,
# not served, 0.77 and 0.57), kept as known misses; v37 catches the first (0.86), and
# v43 the second (0.60).
DISGUISED_GROUP_HATE = [
    "all m0zlems should be sent back",
    "j3ws control the banks, wake up",
    "g@ys are disgusting freaks",
    "r3fugees are parasites",
    "keep the p@kis out of our school",
    "tr@nnies are mentally ill",
    "bl4ck people are animals",
    "k1ll all the g*oks",
]
DISGUISED_GROUP_CLEAN = [
    "musl1m students society bake sale friday",
    "pr0ud to be g@y and loving it",
    "my j3wish grandma makes the best soup",
    "r3fugee welcome dinner at the community centre tonight",
    "bl4ck history month assembly tomorrow",
    "the tr@ns support group meets at 5",
]
# v36: words run together (TAXONOMY.md, "Words run together"), written before any
# model scored them; v33 reads each run as one unknown word and missed four of the
# eight abusive ones, v36 reads them as their words. "the generator at the cabin broke
# again" was written as a known word that must stay whole (it does); both models flag
# it for "the cabin ... broke" (0.70; "the cabin broke again" 0.88), a known miss.
JOINED_ABUSE = [
    "ihatemuslims",
    "urfat and nobody likes you",
    "nobodylikesyou, just leave the group",
    "gokillyourself",
    "womenaretrash honestly",
    "refugees shouldbedeported",
    "ur a worthlessloser",
    "gaysaredisgusting",
]
# Hatred of a group said as a bare feeling, and the clean lines that share its words
# (docs/model.md, "v37"); written while v37 trained, before any model scored them.
FEELING_HATE = [
    "i hate women",
    "honestly i cant stand immigrants",
    "disabled people make me sick",
    "i really despise trans people",
    "ngl i hate gay people",
    "im so sick of muslims",
    "every single jew gets on my nerves",
    "i hate old people, all of them",
]
FEELING_CLEAN = [
    "i hate mondays",
    "i hate racists so much",
    "i don't hate immigrants, i hate the housing policy",
    "he said 'i hate women' in the group chat, how do i report him",
    "i love being a trans woman",
    "i hate being the only girl in the physics class",
    "i can't stand people who chew with their mouth open",
    "i hate homophobes and im not sorry",
]
# The clean look-alikes of group hate (quoted to condemn it, aimed at habits, roles and
# bigots, denied, said about oneself) beside hate in their frames (an endorsed quote, a
# denial that carries it anyway), written before any model scored them, in v38's plan
# (docs/model.md, "v38"). v38 was not served. v37 got five of the sixteen wrong: "i
# don't hate gay people, ..." 0.06, "i despise women" 0.50, "anyone who is trans
# disgusts me" 0.55, "landlords in this city are vile" 0.80, "can't stand seeing
# disabled people mocked like that" 0.83. The served v43 gets the middle three right
# (0.63, 0.62, 0.40); the first and the last stay known misses (0.25, 0.90).
LOOKALIKE_HATE = [
    "my dad says 'immigrants ruin everything' and honestly he's right",
    "i'm not racist but black people shouldn't live round here",
    pytest.param(
        "i don't hate gay people, i just don't want them anywhere near my kids",
        marks=KNOWN_MISS,
    ),
    "i despise women",
    "i detest muslims",
    "anyone who is trans disgusts me",
    "is it just me or are refugees ruining this country",
    "polish people in general make my skin crawl",
]
LOOKALIKE_CLEAN = [
    "my nan said 'immigrants ruin everything' and i told her that's racist",
    "someone sprayed 'gays out' on the bus stop, reported it to the council",
    "i don't hate muslims, i hate people who think all muslims are the same",
    "landlords in this city are vile",
    "people who play music on the bus with no headphones make me sick",
    "the comments under that post about trans kids are disgusting, i reported them all",
    pytest.param(
        "can't stand seeing disabled people mocked like that", marks=KNOWN_MISS
    ),
    "i hate how the disabled toilets are always locked",
]
# Hate about groups that carries no insulting word (implicit hate, a group threat,
# dehumanisation, hate through a pronoun, a group denied something good) beside clean
# lines in its words (quoted to report it, a neutral figure, condemned, aimed at
# pests, a game), written before any model scored them, in v40's plan
# (docs/model.md, "v40"), to be reported, not to decide: a text the served model gets
# wrong is a strict known miss. v37 got all twelve right, one narrowly ("the council
# says refugees ..." 0.595); the served v43 flags that one (0.70; v40 0.644, v41 and
# v42 0.668).
GROUP_IMPLICIT_HATE = [
    "funny how the phones started going missing after the romanians moved onto our"
    " street",
    "someone needs to burn that mosque down before friday",
    "every last asylum seeker should be put back on a boat and pushed out to sea",
    "gypsies breed like rats, that's why there's so many of them",
    "met some nigerians at the uni bar. they're all scammers honestly",
    "a woman will never be a real engineer",
]
GROUP_IMPLICIT_CLEAN = [
    "someone wrote 'burn the mosque' on the wall by the bus stop, police are looking"
    " into it",
    pytest.param(
        "the council says refugees made up 2% of new arrivals in the city last year",
        marks=KNOWN_MISS,
    ),
    "saying immigrants breed like rats is straight up nazi talk, blocked",
    "these rats in the bin store are taking over, ring the landlord",
    "we're gonna absolutely bury city on saturday",
    "my grandad came over from jamaica on the windrush in 1956",
]
# Slurs used as abuse, at a group or at one person, beside clean lines carrying the same
# words (a slur reported or condemned, a reclaimed word, a homonym), written in v44's plan
# before any model scored them (docs/model.md, "v44"), to be reported, not to decide: a
# text the served model gets wrong is a strict known miss.
SLUR_HATE = [
    "shut up you f*ggot, nobody asked",
    "there's a tranny in the girls' changing room again",
    "get that spic out of our group project",
    "the kikes at my work all stick together",
    "@sam ur such a retard lmao",
    "no chinks allowed at our table",
]
SLUR_CLEAN = [
    "my cousin got called a tranny at the bus stop, who do i report it to",
    "we're queer and proud, see you at the pride picnic",
    "someone yelled 'go home paki' at my dad today, i'm still shaking",
    "the flame retardant coating on the seats passed the test",
    "teachers need to stop letting kids say 'that's so gay' in class",
    "dyke march starts at noon, bring water and sunscreen",
]
# Digits inside words (docs/model.md, "v47"), written after v47's plan was committed and
# before any model scored them, to be reported, not to decide: a text the served model
# gets wrong is a strict known miss.
LEET_HATE = [
    "ur such a l00ser, n0body likes u",
    "w0men like u should keep quiet in class",
    "1mm1gr4nts are ruining this town",
    "everyone at sch00l thinks ur a freak",
    "p0st those p1cs and ur done",
    "w4tch ur back after class",
]
LEET_CLEAN = [
    "h4ppy b1rthd4y m8, see u at 7pm",
    "sch00l trip leaves at 10am tomorrow",
    "the w0men's team won 3-1 on saturday",
    "r3fugee support group meets in room 12",
    "ur not a l00ser, the test was just hard",
    "gr8 game, gg, rematch at 9?",
]
# Denials with the cues of v48's wide negation marking ("nobody", "none", "no one", "far
# from"), and abuse made of the same words (docs/model.md, "v48"), written after v48's
# plan was committed and before any model scored them, to be reported, not to decide: a
# text the served model gets wrong is a strict known miss: v48 missed both "far from"
# lines, v51 (trained on denials, "v51") gets them right.
NEGATION_HATE = [
    "nobody wants you in this group, just leave",
    "no one would care if you stopped coming to school",
    "none of us ever liked you, we just felt sorry for you",
    "noone is gonna sit with you at lunch, loser",
    "far from pretty, more like a melted candle",
    "you'll never be anything but a joke to us",
]
NEGATION_CLEAN = [
    "nobody in our group thinks you're annoying, we just got busy",
    "no one called you a liar, we just mixed up the dates",
    "you're far from useless, you carried the whole lab",
    "none of us think you're a creep for asking her out",
    "noone thinks ur fat, stop reading those comments",
    "nobody's laughing at you, the video was about the dog",
]
# Numbers in ordinary chat (an outside audit, fifty-second session): "see you at
# 19:00" scores 0.650 under v51, for "at 19", which two abusive training rows hold;
# v52, which trained a writer of chat carrying numbers, scored it 0.944 and was not
# served (docs/model.md, "v52"); v53, which read every number as one token, scored it
# 0.186 and was not served either, its rule failed by one error ("v53"). v55, which
# reads numbers so beside two writers of chat carrying numbers, scores it 0.263
# ("v55").
NUMBERS_CLEAN = [
    "see you at 19:00",
    "call me at 19:45",
    "meet at 7pm outside the library",
    "bus 19 is late again",
    "page 19 of the book",
    "the score was 19-7",
    "it costs 19.99",
    "i'm 19 next month",
    "in 2019 we went to spain",
]
JOINED_CLEAN = [
    "seeyoutomorrow at practice",
    "happybirthday jess!!",
    "#blacklivesmatter march on saturday",
    "#stopasianhate rally at city hall",
    pytest.param("the generator at the cabin broke again", marks=KNOWN_MISS),
    "my therapist said journaling helps",
    "ur not stupid, the test was just hard #youvegotthis",
    "iloveyou so much bestie",
]


@pytest.mark.parametrize(
    ("joined", "spaced"),
    [
        ("ihatemuslims", "i hate muslims"),
        ("gokillyourself", "go kill yourself"),
        ("refugees shouldbedeported", "refugees should be deported"),
        ("seeyoutomorrow at practice", "see you tomorrow at practice"),
    ],
)
def test_words_run_together_score_as_if_typed_with_spaces(
    detector: Detector, joined: str, spaced: str
) -> None:
    """v36 reads a run of common words as those words (features.split_joined): the
    same terms, and the same score but for the corpus experts' raw characters, which
    see the text as written (a text the router calls chat scores exactly the same)."""
    got, want = detector.score(joined), detector.score(spaced)
    assert got.terms == want.terms
    assert got.probability == pytest.approx(want.probability, abs=0.02)


@pytest.mark.parametrize(
    ("leet", "plain"),
    [
        ("r3fugees are parasites", "refugees are parasites"),
        ("1mm1gr4nts are ruining this town", "immigrants are ruining this town"),
        ("sch00l trip leaves at 10am tomorrow", "school trip leaves at 10am tomorrow"),
    ],
)
def test_digits_inside_words_score_as_the_words_they_spell(
    detector: Detector, leet: str, plain: str
) -> None:
    """v47 reads a word with digits inside as the word they spell (features.read_leet):
    the same terms, and the same score but for the corpus experts' raw characters,
    which see the text as written."""
    got, want = detector.score(leet), detector.score(plain)
    assert got.terms == want.terms
    assert got.probability == pytest.approx(want.probability, abs=0.02)


def test_a_bare_reply_is_judged_by_the_chat_model_alone(detector: Detector) -> None:
    """v31: a text of function words only is the chat model's, even where the router
    would send it to the corpus experts; v45: so is one of three word terms or fewer
    ("first", "you first": the word, "you" and the bigram); a longer one with a
    content word is not."""
    pipeline = detector.pipeline
    clf = pipeline.named_steps["clf"]
    texts = ["you", "and you?", "YOU!!!", "first", "you first", "the first one"]
    x = pipeline[:-1].transform(texts)
    rows = clf.decision_rows(x)
    assert (rows[:, 0] >= clf.margin).all()  # the router calls each a corpus text
    assert clf.bare(x).tolist() == [True, True, True, True, True, False]
    chat = 1 / (1 + np.exp(-(rows[:, len(clf.intercept_) // 2] + clf.shift_)))
    got = np.array([detector.probability(t) for t in texts])
    assert np.allclose(got[:5], chat[:5])
    assert not np.isclose(got[5], chat[5])


@pytest.mark.parametrize(
    "text",
    CLEAR_ABUSE
    + SHORT_ABUSE
    + DISGUISED_GROUP_HATE
    + JOINED_ABUSE
    + FEELING_HATE
    + LOOKALIKE_HATE
    + GROUP_IMPLICIT_HATE
    + SLUR_HATE
    + LEET_HATE
    + NEGATION_HATE,
)
def test_clear_abuse_is_flagged(detector: Detector, text: str) -> None:
    assert detector.score(text).probability >= THRESHOLD


@pytest.mark.parametrize(
    "text",
    CLEAN_AND_HARD_NEGATIVE
    + SHORT_CLEAN
    + FIRST_CLEAN
    + DISGUISED_GROUP_CLEAN
    + JOINED_CLEAN
    + NUMBERS_CLEAN
    + FEELING_CLEAN
    + LOOKALIKE_CLEAN
    + GROUP_IMPLICIT_CLEAN
    + SLUR_CLEAN
    + LEET_CLEAN
    + NEGATION_CLEAN,
)
def test_clean_and_hard_negatives_are_not_flagged(
    detector: Detector, text: str
) -> None:
    assert detector.score(text).probability < THRESHOLD


NAME_TEMPLATES = [
    "{name} is such a worthless loser",
    "{name}, you ugly freak, nobody wants you here",
    "{name} is coming to the study group tonight",
    "tell {name} the quiz moved to friday",
]
NAMES = ["Emily", "Jamal", "Priya", "Mohammed", "Chen", "Olga", "Diego", "Kofi"]


@pytest.mark.parametrize("template", NAME_TEMPLATES)
def test_swapping_names_does_not_change_the_verdict(
    detector: Detector, template: str
) -> None:
    verdicts = {
        name: detector.score(template.format(name=name)).is_bullying(THRESHOLD)
        for name in NAMES
    }
    assert len(set(verdicts.values())) == 1, verdicts


@pytest.mark.parametrize(
    "neutral",
    [
        "see you at practice tomorrow",
        "did you finish the lab report",
        "the bus was late again",
        "I'm at the cafeteria",
    ],
)
@pytest.mark.parametrize("insult", ["you idiot", "you ugly loser", "stupid bitch"])
def test_adding_an_insult_raises_the_score(
    detector: Detector, neutral: str, insult: str
) -> None:
    before = detector.score(neutral).probability
    after = detector.score(f"{neutral}, {insult}").probability
    assert after > before + 0.1


@pytest.mark.parametrize(
    "face",
    ["😊", "😀", "😂", "👍", "❤️", "🙂"],
)
@pytest.mark.parametrize(
    "friendly", ["see you tomorrow", "thanks for the help", "good morning"]
)
def test_a_friendly_face_keeps_a_clean_message_clean(
    detector: Detector, friendly: str, face: str
) -> None:
    """An emoji at the end of a friendly message. 🙂 was a known miss up to v45: our
    writers had used it only for passive-aggressive abuse; v47 trains a writer of
    emoji in both labels (docs/model.md, "v46", "v47")."""
    assert not detector.score(f"{friendly} {face}").is_bullying(THRESHOLD)


@pytest.mark.parametrize(
    ("text", "expected_term"),
    [("go kill yourself loser", "kill"), ("you are a stupid idiot", "idiot")],
)
def test_terms_name_the_abusive_words(
    detector: Detector, text: str, expected_term: str
) -> None:
    terms = detector.score(text).terms
    assert any(expected_term in t for t in terms), terms


# Links (docs/model.md, "v25"): a link carries no label. Written before v25 was
# trained, from no data file; v24 scored a bare news link 0.56, one step from a strike.
LINKS = [
    "https://www.bbc.co.uk/news/uk-12345678",
    "https://youtu.be/dQw4w9WgXcQ",
    "forms.gle/xYz123",
]


@pytest.mark.parametrize(
    "text",
    [
        *LINKS,
        "here's the zoom link https://us02web.zoom.us/j/81234567890",
        "slides are up: https://docs.google.com/presentation/d/1AbCdEf/edit",
        "lol look at this https://www.reddit.com/r/aww/comments/abc123/",
        "the form for the trip is at forms.gle/xYz123, due friday",
    ],
)
def test_sharing_a_link_is_not_flagged(detector: Detector, text: str) -> None:
    assert detector.score(text).probability < THRESHOLD


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("see you at practice tomorrow", False),
        ("did you finish the lab report", False),
        ("you ugly loser, nobody wants you here", True),
        ("kill yourself, nobody would care", True),
    ],
)
def test_adding_a_link_keeps_the_verdict(
    detector: Detector, link: str, text: str, flagged: bool
) -> None:
    assert detector.score(f"{text} {link}").is_bullying(THRESHOLD) is flagged
