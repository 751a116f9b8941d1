"""Text normalisation and the analyzers used by the TF-IDF pipeline.

Every name here is referenced by pickled pipelines, so renaming or moving one breaks
loading of existing artifacts: add new functions instead of changing these.

The pipeline is ``normalize_text`` -> (``word_ngrams`` | ``char_ngrams``) -> TF-IDF ->
logistic regression.  The fast scorer in ``classifier.py`` calls the very same
functions, which is what makes its probabilities identical to scikit-learn's.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache, wraps
from importlib import resources
from itertools import chain, pairwise, product
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer


def bounded_cache(
    maxsize: int,
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Cache a function of one argument, emptied whenever it reaches ``maxsize`` entries.

    A hit is one dict lookup in C (``functools.cache``).  ``functools.lru_cache(maxsize)``
    also moves the entry to the front of its recency list on every hit, which on a big
    cache touches two or three more cold cache lines per call: for the scorer's
    per-token caches that was about 4% of a text's time.  Emptying a full cache instead
    of evicting the oldest entry keeps memory bounded just the same.  The cached
    function's ``maxsize`` attribute is the bound.
    """

    def decorate(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        # Never fewer than the entries held: each miss adds one, and a clear from
        # outside (``cache_clear``) only makes it more.
        stored = 0

        @cache
        @wraps(fn)
        def cached(key: Any) -> Any:
            nonlocal stored
            stored += 1
            if stored > maxsize:
                # Only now ask for the true size (with this miss's entry to come).
                stored = cached.cache_info().currsize + 1
                if stored > maxsize:
                    cached.cache_clear()
                    stored = 1
            return fn(key)

        cached.maxsize = maxsize  # type: ignore[attr-defined]
        return cached

    return decorate


# Words that de-obfuscation may produce.  A token is only rewritten when the result is
# one of these (or an inflection of one), so "1st", "r2d2", "mp3" or "covid19" are
# never turned into nonsense.  Abuse vocabulary plus the ordinary words that abusive
# phrases are made of ("you", "go", "yourself").
_ABUSE_WORDS = """
fuck fucker fucking fucked fuk fck motherfucker shit shitty bullshit bitch bitches
bitchy cunt dick dickhead cock prick ass asshole arse arsehole bastard whore hoe slut
skank fag faggot dyke tranny retard retarded idiot idiotic moron moronic stupid dumb
dumbass loser lame freak creep weirdo ugly fat pig cow dog trash garbage scum worthless
useless pathetic disgusting gross nasty hate kill killed killing die dead death murder
stab shoot hang suicide rape rapist nigger nigga nazi kys stfu gtfo wtf fu suck sucks
sucker stoopid stoopit dum crap damn hell piss pissed jerk douche douchebag twat wanker tosser bollocks
bloody clown cringe nerd geek fatso lardass psycho crazy insane sick kill yourself
""".split()
_COMMON_WORDS = """
you your youre yourself u ur are is am be go get got the a an and or to of in on at it
its this that they them he she his her him we us our i me my mine no not nobody noone
everyone everybody anyone someone likes like love hate wants want need shut up off out
all will well still too see feel good cool look looks loser lose lost so yes yeah now
kill skill class pass miss boss sorry happy little call all small really stop just
never ever even one why what who how when here there please thanks hello hey hi lol
omg haha said say says think thought know knew leave alone face head mouth brain life
""".split()
LEXICON: frozenset[str] = frozenset(_ABUSE_WORDS) | frozenset(_COMMON_WORDS)
_LEXICON_BY_LENGTH = sorted(LEXICON, key=lambda w: (len(w), w))
_SUFFIXES = ("s", "es", "ed", "er", "ers", "ing", "in", "y", "ie", "ies")

# Leet and masking characters.  Ambiguous ones list every letter they may stand for.
_LEET: dict[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "il",
    "|": "il",
    "+": "t",
    "€": "e",
    "£": "l",
}
_MASKS = frozenset("*#%_")
_MASK_RE = re.compile(r"[*#%_]+")

_APOSTROPHES = re.compile(r"['’‘`´]")
_URL_EMAIL = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+", re.IGNORECASE
)
# A run of 3+ single letters joined by one separator: "f u c k", "f.u.c.k", "f-u-c-k".
_SPACED = re.compile(r"(?<![\w*])(?:[a-z][ .\-_*]){2,}[a-z](?![\w*])")
# A chunk of word characters and leet/mask symbols holding at least one symbol.
_OBFUSCATED = re.compile(
    r"(?<![\w@$!|+€£*#%])[\w@$!|+€£*#%]*?[0-9@$!|+€£*#%][\w@$!|+€£*#%]*"
)
_HAS_SYMBOL = re.compile(r"[0-9@$!|+€£*#%]").search
_STRETCHED = re.compile(r"\b[a-z]*?([a-z])\1\1[a-z]*")
_RUN3 = re.compile(r"([a-z])\1{2,}")
_HAS_RUN3 = re.compile(r"([a-z])\1\1").search
_PUNCT_RUN = re.compile(r"([^\w\s])\1+")
# Necessary conditions for _SPACED (or _PUNCT_RUN) to change anything.
_SPACED_HINT = re.compile(r"(?<![\w*])[a-z][ .\-_*][a-z][ .\-_*][a-z]").search
_SPACED_OR_RUN = re.compile(
    r"(?<![\w*])[a-z][ .\-_*][a-z][ .\-_*][a-z]|([^\w\s])\1"
).search
_SPACES = re.compile(r"\s+")
# Invisible characters that split a word without showing: zero-width space/joiners,
# word joiner, BOM, soft hyphen, Mongolian vowel separator, invisible operators.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064"),
    None,
)
# Cyrillic and Greek letters that look like Latin ones.  A word is
# only rewritten when every letter in it is Latin or one of these, so real Russian or
# Greek words ("привет") stay as written while "іdіot" with Cyrillic i becomes "idiot".
HOMOGLYPHS: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ɑ": "a",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v", "ᴄ": "c", "ᴏ": "o",
    "А": "a", "В": "b", "Е": "e", "Ё": "e", "К": "k", "М": "m", "Н": "h", "О": "o",
    "Р": "p", "С": "c", "Т": "t", "У": "y", "Х": "x", "І": "i", "Ї": "i", "Ј": "j",
    "Ѕ": "s", "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k",
    "Μ": "m", "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)
_LATIN_LOOKALIKE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
) | frozenset(HOMOGLYPHS)
_NON_ASCII_WORD = re.compile(r"[^\W_]*[^\x00-\x7f][^\W_]*")
# Combining marks left by NFKD ("é" -> "e" + U+0301), removed to fold accents.
_COMBINING = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)

# Word tokens: letters/digits (apostrophes already removed), or one emoji/symbol.
_TOKEN = re.compile(r"[^\W_]+|[^\w\s\x00-\x7f]")
# For ASCII text [^\W_] is exactly [a-zA-Z0-9]; the explicit class is faster.
_ASCII_TOKEN = re.compile(r"[a-zA-Z0-9]+")
_URL_TOKEN = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+|@\w+"
)

CHAR_MIN_N = 3
CHAR_MAX_N = 4


def _in_lexicon(word: str) -> bool:
    if word in LEXICON:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and word[: -len(suffix)] in LEXICON:
            return True
    return False


@bounded_cache(16384)
def _deobfuscate_token(token: str) -> str:
    """Return the lexicon word a leet/masked token stands for, or the token unchanged."""
    core = token.strip("!?.*#")
    if len(core) < 2 or not any(c.isalpha() for c in core):
        return token
    if core.isalpha():  # the symbols were only surrounding punctuation ("loser!!!")
        return token
    lead = token[: token.index(core)]
    trail = token[token.index(core) + len(core) :]
    options = [_LEET.get(c, c) if not c.isalpha() else c for c in core]
    if any(c in _MASKS for c in core):
        parts = _split_masks(options)
        for quantifier in ("exact", "+"):
            pattern = re.compile(
                "".join(
                    (f"[a-z]{{{len(part)}}}" if quantifier == "exact" else "[a-z]+")
                    if part[0] in _MASKS
                    else f"[{re.escape(part)}]"
                    for part in parts
                )
            )
            for word in _LEXICON_BY_LENGTH:
                if pattern.fullmatch(word):
                    return lead + word + trail
        return token
    if sum(len(o) > 1 for o in options) > 4:
        return token
    for letters in product(*options):
        candidate = "".join(letters)
        if _in_lexicon(candidate) or _in_lexicon(_RUN3.sub(r"\1", candidate)):
            return lead + candidate + trail
    return token


def _split_masks(options: list[str]) -> list[str]:
    """Group consecutive mask characters so "f**k" becomes ["f", "**", "k"]."""
    parts: list[str] = []
    for opt in options:
        if opt in _MASKS and parts and parts[-1][0] in _MASKS:
            parts[-1] += opt
        else:
            parts.append(opt)
    return parts


def _fix_obfuscated(match: re.Match[str]) -> str:
    return _fix_obfuscated_token(match.group(0))


@bounded_cache(16384)
def _fix_obfuscated_token(token: str) -> str:
    if token.isdigit() or token.startswith("@") and token[1:].isalnum():
        # Plain numbers and @mentions, unless the mention is "@ss"-style leet.
        if not token.startswith("@"):
            return token
        fixed = "a" + token[1:]
        return fixed if _in_lexicon(fixed) else token
    return _deobfuscate_token(token)


@bounded_cache(16384)
def _unstretch_token(token: str) -> str:
    single = _RUN3.sub(r"\1", token)
    if _in_lexicon(single):
        return single
    double = _RUN3.sub(r"\1\1", token)
    if _in_lexicon(double):
        return double
    return single


def _fix_stretched(match: re.Match[str]) -> str:
    return _unstretch_token(match.group(0))


def _fix_spaced(match: re.Match[str]) -> str:
    run = match.group(0)
    letters = run[::2]
    separators = set(run[1::2])
    # "u r a" is chat shorthand; only join longer runs, or runs with a masking separator.
    if len(letters) >= 4 or separators != {" "}:
        return letters
    return run


def _normalize_plain(text: str) -> str:
    if "'" in text or "’" in text or "`" in text or "‘" in text or "´" in text:
        text = _APOSTROPHES.sub("", text)
    # Most texts hold neither spaced letters nor punctuation runs; one search for
    # both is cheaper than two substitutions that change nothing.  The later steps
    # only turn characters into letters, so they cannot create a punctuation run.
    spaced_or_run = _SPACED_OR_RUN(text) is not None
    if spaced_or_run:
        text = _SPACED.sub(_fix_spaced, text)
    if _HAS_SYMBOL(text):
        text = _OBFUSCATED.sub(_fix_obfuscated, text)
    if _HAS_RUN3(text):
        text = _STRETCHED.sub(_fix_stretched, text)
    return _PUNCT_RUN.sub(r"\1", text) if spaced_or_run else text


def normalize_text(text: str) -> str:
    """Lower-case and undo common evasions while leaving ordinary text alone.

    Removes zero-width characters, maps Cyrillic/Greek look-alike letters inside
    otherwise Latin words to Latin, and handles leetspeak ("k1ll", "l0ser"), masked letters ("f*ck", "b!tch"), spaced
    letters ("f u c k"), stretched letters ("looooser"), accents/full-width forms and
    punctuation runs ("!!!!" -> "!").  Numbers, @mentions, URLs and e-mail addresses
    are kept as written (lower-cased).
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not text.isascii():
        text = text.translate(_INVISIBLE)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        if not text.isascii():
            text = _NON_ASCII_WORD.sub(_unconfuse_word, text)
    text = text.lower()
    if "://" in text or "www." in text or ("@" in text and "." in text):
        pieces = []
        last = 0
        for m in _URL_EMAIL.finditer(text):
            pieces.append(_normalize_plain(text[last : m.start()]))
            pieces.append(m.group(0))
            last = m.end()
        pieces.append(_normalize_plain(text[last:]))
        text = "".join(pieces)
    else:
        text = _normalize_plain(text)
    if "  " in text or "\t" in text or "\n" in text or not text.isascii():
        text = _SPACES.sub(" ", text)
    return text.strip()


def _unconfuse_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if _LATIN_LOOKALIKE.issuperset(word):
        return word.translate(_HOMOGLYPH_TABLE)
    return word


def word_tokens(normalized: str) -> list[str]:
    """Split normalised text into word tokens; URLs, e-mails and @mentions become placeholders."""
    if "@" in normalized or "://" in normalized or "www." in normalized:
        normalized = _URL_TOKEN.sub(_placeholder, normalized)
    if normalized.isascii():
        return _ASCII_TOKEN.findall(normalized)
    return _TOKEN.findall(normalized)


_MAX_CACHED_CHUNK = 40


# Punctuation that ends a chunk ("you," "why??" "dumb!!!") and that no rule of the
# normalisation reads as part of a word: no letter, digit, leet or mask character
# but "!", which _deobfuscate_token strips from a word's ends before it reads it.
_TRAILING = '.,!?;:)"'


@bounded_cache(65536)
def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    # An ASCII word with apostrophes or punctuation after it has the word's tokens
    # (the normalisation drops apostrophes first): read them from the word's entry, so
    # "dumb," and "can't" are not normalised when "dumb" and "cant" were.  "www" is the
    # one word whose trailing dots can make a URL ("www..").  Only the ASCII apostrophes,
    # not all of _APOSTROPHES: "´" is decomposed into a space before it could be dropped.
    word = chunk.rstrip(_TRAILING).replace("'", "").replace("`", "")
    if word != chunk and word.isalnum() and word.isascii() and "www" not in word:
        return _chunk_tokens(word)
    return tuple(word_tokens(normalize_text(chunk)))


_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


@bounded_cache(4096)
def _is_plain_mark(char: str) -> bool:
    """Whether the normalisation reads ``char`` within its chunk only: punctuation or a
    symbol (emoji, curly quotes and apostrophes, dashes) with no compatibility form,
    so never a letter, digit, space, look-alike letter or invisible mark.  Currency
    signs, which the leet rules read as letters, are left out."""
    category = unicodedata.category(char)
    return (
        category[0] in "PS"
        and category != "Sc"
        and unicodedata.normalize("NFKD", char) == char
    )


def text_tokens(text: str) -> list[str]:
    """Return ``word_tokens(normalize_text(text))``, faster for most texts.

    For ASCII text without a run of spaced single letters ("f u c k", the only rule
    that looks across whitespace) every rule of the normalisation and tokenisation
    acts within one whitespace-separated chunk, so the tokens of the text are the
    tokens of its chunks, and chunks (mostly ordinary words) are cached.  The same
    holds when the text's only other characters are punctuation or symbols read within
    their chunk (emoji, curly apostrophes): none is a letter, a space or a separator
    of spaced letters, and the apostrophes, which the normalisation drops, are dropped
    before looking for spaced letters.
    """
    if isinstance(text, str) and (
        text.isascii() or all(map(_is_plain_mark, _NON_ASCII_CHAR.findall(text)))
    ):
        low = text.lower()
        probe = (
            _APOSTROPHES.sub("", low)
            if "'" in low or "`" in low or not low.isascii()
            else low
        )
        if _SPACED_HINT(probe) is None:
            chunks = low.split()
            if max(map(len, chunks), default=0) > _MAX_CACHED_CHUNK:
                # Long chunks are rare; not caching them bounds the cache's memory.
                return word_tokens(normalize_text(text))
            return list(chain.from_iterable(map(_chunk_tokens, chunks)))
    return word_tokens(normalize_text(text))


def warm_text_tokens(words: Iterable[str]) -> None:
    """Cache the tokens of each of ``words`` as a chunk of a text, as
    :func:`text_tokens` would on first sight (the scorer warms it with its vocabulary's
    words, so a text's first ordinary words cost what a repeat costs)."""
    chunks = [
        w for w in words if w.isascii() and w.isalnum() and len(w) <= _MAX_CACHED_CHUNK
    ][: _chunk_tokens.maxsize]
    if _chunk_tokens.cache_info().currsize + len(chunks) > _chunk_tokens.maxsize:
        _chunk_tokens.cache_clear()  # room for all of them: none is emptied out halfway
    for chunk in chunks:
        _chunk_tokens(chunk)


def _placeholder(match: re.Match[str]) -> str:
    value = match.group(0)
    if value.startswith("@") and "." not in value:
        return " user "
    return " emailaddress " if "@" in value else " url "


def word_ngrams(normalized: str) -> list[str]:
    """Word unigrams and bigrams of already-normalised text (a TfidfVectorizer analyzer)."""
    tokens = word_tokens(normalized)
    return tokens + [a + " " + b for a, b in pairwise(tokens)]


def _ngrams_1_3(tokens: list[str]) -> list[str]:
    return (
        tokens
        + [a + " " + b for a, b in pairwise(tokens)]
        + [
            a + " " + b + " " + c
            for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)
        ]
    )


def word_ngrams_1_3(normalized: str) -> list[str]:
    """Word unigrams, bigrams and trigrams of already-normalised text (an analyzer)."""
    return _ngrams_1_3(word_tokens(normalized))


# Negation: a cue marks up to NEGATION_SCOPE following tokens with "~" ("not ~dumb"),
# so an insult word under negation is a different feature from the insult itself.  A
# scope ends early at a clause word ("but", "just") or at the next cue.
NEGATION_CUES = frozenset(
    "not no never dont doesnt didnt isnt arent wasnt werent cant cannot couldnt wont "
    "wouldnt shouldnt aint nor neither hardly nothing".split()
)
SCOPE_BREAKERS = frozenset(
    "but just and or so because cause cuz coz tho though although yet while if when "
    "then lol lmao haha rather instead".split()
)
NEGATION_SCOPE = 3
NEGATED = "~"


def mark_negation(tokens: list[str]) -> list[str]:
    """Prefix the tokens in the scope of a negation cue with ``~``."""
    if NEGATION_CUES.isdisjoint(tokens):
        return tokens
    return _mark(tokens)


# Wide negation (v48): the pronouns of denial are cues too ("nobody called you a
# snitch", "none of us think ur weird"), and so are "no one" and "far from" (their
# second word is the cue), each with a scope one token longer, so that the denied
# insult a few words on is marked ("no one called you stupid", "nobody here thinks
# you're pathetic").  The older cues keep their scope.  An insult under a cue is a
# different feature from the insult itself, as with ``mark_negation``; abuse made of
# these words ("nobody likes you") keeps marked features of its own, learnt from the
# rows that hold them.  docs/model.md, "v48".
WIDE_NEGATION_CUES = frozenset("nobody nobodys noone none".split())
WIDE_NEGATION_PAIRS = frozenset({("no", "one"), ("far", "from")})
WIDE_NEGATION_SCOPE = NEGATION_SCOPE + 1
_WIDE_ANY = NEGATION_CUES | WIDE_NEGATION_CUES | {"far"}


def mark_negation_wide(tokens: list[str]) -> list[str]:
    """``mark_negation`` with the wide cues too (``WIDE_NEGATION_CUES``, ``_PAIRS``)."""
    if _WIDE_ANY.isdisjoint(tokens):
        return tokens
    return _mark(tokens, wide=True)


def _mark(tokens: list[str], wide: bool = False) -> list[str]:
    out: list[str] = []
    left = 0
    previous = ""
    for token in tokens:
        if wide and (
            token in WIDE_NEGATION_CUES or (previous, token) in WIDE_NEGATION_PAIRS
        ):
            cue = WIDE_NEGATION_SCOPE
        else:
            cue = NEGATION_SCOPE if token in NEGATION_CUES else 0
        previous = token
        if cue:
            out.append(token)
            left = cue
        elif left and token not in SCOPE_BREAKERS:
            out.append(NEGATED + token)
            left -= 1
        else:
            out.append(token)
            left = 0
    return out


def word_ngrams_neg(normalized: str) -> list[str]:
    """Word 1-3-grams of already-normalised text after negation marking (an analyzer)."""
    return _ngrams_1_3(mark_negation(word_tokens(normalized)))


# Words run together ("ihatemuslims", "#deportthemall", "urfat"): a token of at
# least JOINED_MIN_LENGTH letters that is not a known word is read as the words it is
# made of, when it is made only of common words.  Known words are the unigram counts
# the ``wordsegment`` package ships (333,000 words of the web, from Norvig's "Natural
# Language Corpus Data"; a pinned dependency, read once) and the words of v33's
# vocabulary (``joined_words.txt``: what the training data holds that the web list of
# 2006 does not, such as "selfie", "unalive" or a slur the model knows whole).  A known
# word is never split ("generator", "therapist", "scunthorpe").  Of the readings of
# any other token, the one whose words are together the most frequent wins (Norvig's
# segmentation: a word costs ln(total / count) plus a penalty, so fewer, commoner
# words win).  A piece must be common: a count of at least JOINED_MIN_COUNT, ten
# times that for three letters, and one or two letters only in JOINED_SHORT, so a
# name or a typo is not cut into junk.  docs/model.md, "v36".
JOINED_MIN_LENGTH = 5
JOINED_MIN_COUNT = 100_000
JOINED_PIECE_PENALTY = 5.0
JOINED_MAX_PIECE = 20
JOINED_SHORT = frozenset(
    "i a u am an as at be by do go he if in is it me my no of oh ok on or so to up "
    "us we ur im ya yo ye".split()
)
JOINED_KNOWN_FILE = Path(__file__).with_name("joined_words.txt")


def joined_words_file() -> Path:
    """The word-count file :func:`split_joined` reads (``wordsegment``'s unigrams)."""
    return Path(str(resources.files("wordsegment") / "unigrams.txt"))


def _piece_ok(word: str, count: float) -> bool:
    if len(word) <= 2:
        return word in JOINED_SHORT
    return count >= (10 if len(word) == 3 else 1) * JOINED_MIN_COUNT


@cache
def joined_known_words() -> tuple[str, ...]:
    """The project's own words never split (``joined_words.txt``), read once."""
    return tuple(JOINED_KNOWN_FILE.read_text(encoding="utf-8").split())


@cache
def joined_word_costs() -> tuple[frozenset[str], dict[str, float]]:
    """The words never split (those of JOINED_MIN_LENGTH letters or more: a shorter
    token is never split anyway) and the cost of each word that may be a piece."""
    known: set[str] = set()
    pieces: dict[str, float] = {}
    total = 0.0
    with open(joined_words_file(), encoding="utf-8") as fh:
        for line in fh:
            word, count = line.split("\t")
            n = float(count)
            total += n
            if len(word) >= JOINED_MIN_LENGTH:
                known.add(word)
            if _piece_ok(word, n):
                pieces[word] = n
    known.update(joined_known_words())
    costs = {w: math.log(total / n) + JOINED_PIECE_PENALTY for w, n in pieces.items()}
    return frozenset(known), costs


@bounded_cache(16384)
def split_joined_token(token: str) -> tuple[str, ...]:
    """The words ``token`` is made of, or ``(token,)`` when it is a word of the list,
    shorter than JOINED_MIN_LENGTH, not all letters, or not made only of pieces."""
    known, costs = joined_word_costs()
    n = len(token)
    if n < JOINED_MIN_LENGTH or token in known or not token.isalpha():
        return (token,)
    best = [0.0] + [math.inf] * n
    start = [0] * (n + 1)
    for end in range(1, n + 1):
        for begin in range(max(0, end - JOINED_MAX_PIECE), end):
            if best[begin] == math.inf:
                continue
            cost = costs.get(token[begin:end])
            if cost is not None and best[begin] + cost < best[end]:
                best[end] = best[begin] + cost
                start[end] = begin
    if best[n] == math.inf:
        return (token,)
    pieces: list[str] = []
    end = n
    while end:
        pieces.append(token[start[end] : end])
        end = start[end]
    return tuple(reversed(pieces))


# Tokens seen to stay whole (most of them): a text made only of these is its own
# split, found by one set check in C.  Emptied when full, like a bounded_cache.
_WHOLE: set[str] = set()
_WHOLE_MAX = 65536


def split_joined(tokens: list[str]) -> list[str]:
    """``tokens`` with every word run together replaced by its pieces (``tokens``
    itself when none is)."""
    if _WHOLE.issuperset(tokens):
        return tokens
    if len(_WHOLE) > _WHOLE_MAX:
        _WHOLE.clear()
    out: list[str] = []
    for token in tokens:
        pieces = (
            split_joined_token(token) if len(token) >= JOINED_MIN_LENGTH else (token,)
        )
        if len(pieces) == 1:
            _WHOLE.add(token)
        out.extend(pieces)
    return tokens if len(out) == len(tokens) else out


def joined_tokens(normalized: str) -> list[str]:
    """``word_tokens`` with words run together split (:func:`split_joined`)."""
    return split_joined(word_tokens(normalized))


def word_ngrams_neg_split(normalized: str) -> list[str]:
    """``word_ngrams_neg`` on tokens with words run together split (an analyzer)."""
    return _ngrams_1_3(mark_negation(joined_tokens(normalized)))


# Digits inside a word ("r3fugees", "w0men", "p1cs"): a token that holds a digit
# between two letters and only digits the leet rules read as letters is read as the
# word its letters spell (each digit as each letter it may stand for, "1" as "i" then
# "l"), when one is: a word of the de-obfuscation lexicon first, also with a doubled
# letter made single ("l00ser" is "loser"), else the first known word.  Known words are
# split_joined's common pieces of LEET_MIN_LENGTH letters or more and its own list
# (``joined_words.txt``).  A digit only at a word's edge is ordinary use and stays as
# written ("10th", "11am", "sum1", "mp3", "4ever"), and so does a token of more than
# LEET_MAX_READINGS readings.  The de-obfuscation of ``normalize_text`` reads only the
# words of its small lexicon; this reads any common word.  docs/model.md, "v47".
LEET_DIGITS: dict[str, str] = {c: v for c, v in _LEET.items() if c.isdigit()}
LEET_MIN_LENGTH = 4
LEET_MAX_READINGS = 16
_DIGIT_INSIDE = re.compile(r"[a-z][0-9]+[a-z]").search
_ANY_DIGIT = re.compile(r"[0-9]").search
_UNREAD_DIGITS = frozenset("0123456789") - LEET_DIGITS.keys()
_DOUBLE = re.compile(r"([a-z])\1")


@cache
def leet_words() -> frozenset[str]:
    """The words a token with digits inside may be read as (:func:`read_leet_token`)."""
    _, costs = joined_word_costs()
    return frozenset(
        w
        for w in chain(costs, joined_known_words())
        if len(w) >= LEET_MIN_LENGTH and w.isalpha()
    )


@bounded_cache(16384)
def read_leet_token(token: str) -> str:
    """The known word ``token`` spells with its digits read as letters, or ``token``."""
    if (
        len(token) < LEET_MIN_LENGTH
        or not token.isascii()
        or not token.isalnum()
        or _DIGIT_INSIDE(token) is None
        or not _UNREAD_DIGITS.isdisjoint(token)
    ):
        return token
    options = [LEET_DIGITS.get(c, c) for c in token]
    if math.prod(map(len, options)) > LEET_MAX_READINGS:
        return token
    readings = ["".join(letters) for letters in product(*options)]
    for word in readings:  # a word of the de-obfuscation lexicon first, "l00ser"
        if word in LEXICON:
            return word
        if _DOUBLE.search(word) and (single := _DOUBLE.sub(r"\1", word)) in LEXICON:
            return single
    words = leet_words()
    return next((word for word in readings if word in words), token)


def read_leet(tokens: list[str]) -> list[str]:
    """``tokens`` with every token that has digits inside read as the word it spells
    (:func:`read_leet_token`; ``tokens`` itself when none is)."""
    if _ANY_DIGIT(" ".join(tokens)) is None:
        return tokens
    out = [read_leet_token(t) for t in tokens]
    return tokens if out == tokens else out


def leet_tokens(normalized: str) -> list[str]:
    """``word_tokens`` with digits inside words read (:func:`read_leet`), then words
    run together split (:func:`split_joined`)."""
    return split_joined(read_leet(word_tokens(normalized)))


def word_ngrams_neg_split_leet(normalized: str) -> list[str]:
    """``word_ngrams_neg_split`` on tokens with digits inside words read first (an
    analyzer)."""
    return _ngrams_1_3(mark_negation(leet_tokens(normalized)))


# The same three word analyzers with wide negation (``mark_negation_wide``, v48).
def word_ngrams_wneg(normalized: str) -> list[str]:
    """``word_ngrams_neg`` with wide negation marking (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(word_tokens(normalized)))


def word_ngrams_wneg_split(normalized: str) -> list[str]:
    """``word_ngrams_neg_split`` with wide negation marking (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(joined_tokens(normalized)))


def word_ngrams_wneg_split_leet(normalized: str) -> list[str]:
    """``word_ngrams_neg_split_leet`` with wide negation marking (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(leet_tokens(normalized)))


# Numbers (v53): a token of two or more digits ("19", "2024", "100") is read as the one
# token NUMBER, so no particular number is a feature: "19" in "see you at 19:00" or "m
# 19" is the same term as "18" in "see you at 18:00", and "send 50 pics" the same as
# "send 200 pics".  A single digit stays as written: "2", "4" and "1" stand for words
# in chat ("u r 2 dumb").  A digit inside a word is read_leet's ("l00ser"), and a
# number with letters stays whole ("7pm", "10th", "ck2").  docs/model.md, "v53".
NUMBER = "num"
_TWO_DIGITS = re.compile(r"[0-9][0-9]").search


def read_numbers(tokens: list[str]) -> list[str]:
    """``tokens`` with every token of two or more ASCII digits read as ``NUMBER``
    (``tokens`` itself when none is)."""
    if _TWO_DIGITS(" ".join(tokens)) is None:
        return tokens
    return [NUMBER if len(t) > 1 and t.isascii() and t.isdigit() else t for t in tokens]


def number_tokens(normalized: str) -> list[str]:
    """``word_tokens`` with numbers read (:func:`read_numbers`)."""
    return read_numbers(word_tokens(normalized))


def number_joined_tokens(normalized: str) -> list[str]:
    """:func:`joined_tokens` with numbers read first."""
    return split_joined(number_tokens(normalized))


def number_leet_tokens(normalized: str) -> list[str]:
    """:func:`leet_tokens` with numbers read (after digits inside words, before
    words run together are split)."""
    return split_joined(read_numbers(read_leet(word_tokens(normalized))))


# The three wide-negation pairs with numbers read (v53).
def word_ngrams_wneg_num(normalized: str) -> list[str]:
    """``word_ngrams_wneg`` with numbers read (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(number_tokens(normalized)))


def word_ngrams_wneg_split_num(normalized: str) -> list[str]:
    """``word_ngrams_wneg_split`` with numbers read (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(number_joined_tokens(normalized)))


def word_ngrams_wneg_split_leet_num(normalized: str) -> list[str]:
    """``word_ngrams_wneg_split_leet`` with numbers read (an analyzer)."""
    return _ngrams_1_3(mark_negation_wide(number_leet_tokens(normalized)))


# The word analyzers the fast scorer understands, with their longest n-gram.
WORD_ANALYZERS = {
    word_ngrams: 2,
    word_ngrams_1_3: 3,
    word_ngrams_neg: 3,
    word_ngrams_neg_split: 3,
    word_ngrams_neg_split_leet: 3,
    word_ngrams_wneg: 3,
    word_ngrams_wneg_split: 3,
    word_ngrams_wneg_split_leet: 3,
    word_ngrams_wneg_num: 3,
    word_ngrams_wneg_split_num: 3,
    word_ngrams_wneg_split_leet_num: 3,
}
# Analyzers whose tokens go through mark_negation first.
NEGATION_ANALYZERS = frozenset(
    {
        "word_ngrams_neg",
        "char_ngrams_neg",
        "word_ngrams_neg_split",
        "char_ngrams_neg_split",
        "word_ngrams_neg_split_leet",
        "char_ngrams_neg_split_leet",
        "word_ngrams_wneg",
        "char_ngrams_wneg",
        "word_ngrams_wneg_split",
        "char_ngrams_wneg_split",
        "word_ngrams_wneg_split_leet",
        "char_ngrams_wneg_split_leet",
        "word_ngrams_wneg_num",
        "char_ngrams_wneg_num",
        "word_ngrams_wneg_split_num",
        "char_ngrams_wneg_split_num",
        "word_ngrams_wneg_split_leet_num",
        "char_ngrams_wneg_split_leet_num",
    }
)
# Analyzers whose tokens go through split_joined first (before negation marking).
SPLIT_ANALYZERS = frozenset(
    {
        "word_ngrams_neg_split",
        "char_ngrams_neg_split",
        "word_ngrams_neg_split_leet",
        "char_ngrams_neg_split_leet",
        "word_ngrams_wneg_split",
        "char_ngrams_wneg_split",
        "word_ngrams_wneg_split_leet",
        "char_ngrams_wneg_split_leet",
        "word_ngrams_wneg_split_num",
        "char_ngrams_wneg_split_num",
        "word_ngrams_wneg_split_leet_num",
        "char_ngrams_wneg_split_leet_num",
    }
)
# Analyzers whose tokens go through read_leet first (before split_joined).
LEET_ANALYZERS = frozenset(
    {
        "word_ngrams_neg_split_leet",
        "char_ngrams_neg_split_leet",
        "word_ngrams_wneg_split_leet",
        "char_ngrams_wneg_split_leet",
        "word_ngrams_wneg_split_leet_num",
        "char_ngrams_wneg_split_leet_num",
    }
)
# Analyzers whose tokens go through read_numbers (after read_leet, before split_joined).
NUMBER_ANALYZERS = frozenset(
    {
        "word_ngrams_wneg_num",
        "char_ngrams_wneg_num",
        "word_ngrams_wneg_split_num",
        "char_ngrams_wneg_split_num",
        "word_ngrams_wneg_split_leet_num",
        "char_ngrams_wneg_split_leet_num",
    }
)
# Analyzers whose negation marking is the wide one (mark_negation_wide).
WIDE_NEGATION_ANALYZERS = frozenset(
    {
        "word_ngrams_wneg",
        "char_ngrams_wneg",
        "word_ngrams_wneg_split",
        "char_ngrams_wneg_split",
        "word_ngrams_wneg_split_leet",
        "char_ngrams_wneg_split_leet",
        "word_ngrams_wneg_num",
        "char_ngrams_wneg_num",
        "word_ngrams_wneg_split_num",
        "char_ngrams_wneg_split_num",
        "word_ngrams_wneg_split_leet_num",
        "char_ngrams_wneg_split_leet_num",
    }
)


@bounded_cache(65536)
def word_char_grams(word: str) -> tuple[str, ...]:
    """Character n-grams of one word padded with spaces, like sklearn's ``char_wb``."""
    padded = " " + word + " "
    size = len(padded)
    grams: list[str] = []
    for n in range(CHAR_MIN_N, CHAR_MAX_N + 1):
        if n > size:
            if n == CHAR_MIN_N:
                grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


def char_ngrams(normalized: str) -> list[str]:
    """Character 3-4-grams within each word token (a TfidfVectorizer analyzer)."""
    return _word_char_grams_of(word_tokens(normalized))


def char_ngrams_neg(normalized: str) -> list[str]:
    """Character 3-4-grams within each negation-marked word token (an analyzer)."""
    return _word_char_grams_of(mark_negation(word_tokens(normalized)))


def char_ngrams_neg_split(normalized: str) -> list[str]:
    """``char_ngrams_neg`` on tokens with words run together split (an analyzer)."""
    return _word_char_grams_of(mark_negation(joined_tokens(normalized)))


def char_ngrams_neg_split_leet(normalized: str) -> list[str]:
    """``char_ngrams_neg_split`` on tokens with digits inside words read first (an
    analyzer)."""
    return _word_char_grams_of(mark_negation(leet_tokens(normalized)))


def char_ngrams_wneg(normalized: str) -> list[str]:
    """``char_ngrams_neg`` with wide negation marking (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(word_tokens(normalized)))


def char_ngrams_wneg_split(normalized: str) -> list[str]:
    """``char_ngrams_neg_split`` with wide negation marking (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(joined_tokens(normalized)))


def char_ngrams_wneg_split_leet(normalized: str) -> list[str]:
    """``char_ngrams_neg_split_leet`` with wide negation marking (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(leet_tokens(normalized)))


def char_ngrams_wneg_num(normalized: str) -> list[str]:
    """``char_ngrams_wneg`` with numbers read (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(number_tokens(normalized)))


def char_ngrams_wneg_split_num(normalized: str) -> list[str]:
    """``char_ngrams_wneg_split`` with numbers read (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(number_joined_tokens(normalized)))


def char_ngrams_wneg_split_leet_num(normalized: str) -> list[str]:
    """``char_ngrams_wneg_split_leet`` with numbers read (an analyzer)."""
    return _word_char_grams_of(mark_negation_wide(number_leet_tokens(normalized)))


def _word_char_grams_of(tokens: list[str]) -> list[str]:
    grams: list[str] = []
    for word in tokens:
        grams.extend(word_char_grams(word))
    return grams


# The ways a message addresses its reader (the targeting cues below read them too).
SECOND_PERSON = frozenset(
    "you u ur your youre yours yourself yourselves ya yall ure urself youve youll "
    "youd user".split()
)
# Words that never count as a reason on their own: a term made only of these (after
# dropping the negation mark) is not shown by ``Verdict.terms``.  The last two lines are
# chat spellings of the same words ("r u", "c u", "wit u", "dat"); every second-person
# word is one too.
FUNCTION_WORDS = SECOND_PERSON | frozenset(
    """
a an the and or but if so as at by for from in into of off on onto out over to up
with about than then too very can could will would shall should may might must do
does did done doing be is am are was were been being have has had having get got
i me my mine myself we us our ours ourselves he him his himself she her hers herself
it its itself they them their theirs themselves this that these those there here who
whom whose which what when
where why how all any both each few more most other some such only own same just
not no nor never dont doesnt didnt isnt arent wasnt werent cant wont im ive ill id
hes shes thats theres whats lets gonna wanna gotta like really even still ever also
again now oh ok okay yeah yes hey hi lol lmao haha omg rn tbh ngl fr idk bc cuz
one someone something anyone anything everyone everything nobody nothing go going
see say said tell make made know think want let come back way thing things
url emailaddress num
r n y c b w 2 4 urselves yo da dat dis dem den wit wat wut wot wen tho imma ima
""".split()
)


@bounded_cache(65536)
def is_function_term(term: str) -> bool:
    """True when every word of ``term`` is a function word (never shown as a reason)."""
    return all(w.lstrip(NEGATED) in FUNCTION_WORDS for w in term.split(" "))


# OLID masks every mention as "@USER"; normalised, any spelling of it is "@user" (the
# tokeniser makes every mention the word "user", so the word block cannot see it).  No
# other training file holds it.  With ``gate_tags=True`` (``pipeline.build_pipeline``)
# it is a column of its own that only the style gate reads (``mixture.GatedExperts``).
USER_TAG = "@user"
_USER_TAG_RE = re.compile(r"(?<![\w@])@user\b")


def has_user_tag(normalized: str) -> bool:
    """True when the normalised text holds the mention ``@user`` itself."""
    return USER_TAG in normalized and _USER_TAG_RE.search(normalized) is not None


def text_has_user_tag(text: str) -> bool:
    """``has_user_tag(normalize_text(text))``, without normalising an ASCII text that
    holds no "@" (normalisation makes an "@" only from a non-ASCII form of it)."""
    if isinstance(text, str) and text.isascii() and "@" not in text:
        return False
    return has_user_tag(normalize_text(text))


class UserTag(TransformerMixin, BaseEstimator):
    """Stateless one-column block: 1.0 where the normalised text holds ``@user``."""

    def fit(self, X, y=None):  # noqa: N803 - scikit-learn naming
        return self

    def transform(self, X):  # noqa: N803
        column = np.fromiter(map(has_user_tag, X), dtype=np.float64, count=len(X))
        return sp.csr_matrix(column.reshape(-1, 1))


class Normalized(str):
    """A normalised text that keeps the text it came from as ``raw``: every feature
    block reads the normalised string, except the raw-character block
    (:func:`raw_char_ngrams`), which reads what normalisation removes."""

    raw: str


def normalized(text: Any) -> Normalized:
    """``normalize_text(text)`` as a :class:`Normalized` that remembers ``text``."""
    out = Normalized(normalize_text(text))
    out.raw = text if isinstance(text, str) else "" if text is None else str(text)
    return out


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Stateless pipeline step that normalises every text (:func:`normalized`)."""

    def fit(self, X, y=None):  # noqa: N803 - scikit-learn naming
        return self

    def transform(self, X):  # noqa: N803
        return [normalized(text) for text in X]


def raw_view(text: str) -> str:
    """A text as the raw-character block reads it: as written, but each URL and
    e-mail address a space (their characters say which platform a text came from,
    not what it says), and every run of whitespace one space."""
    return _SPACES.sub(" ", _URL_EMAIL.sub(" ", text))


def raw_char_grams(text: str) -> list[str]:
    """Character 1- and 2-grams of :func:`raw_view` of a text: its case,
    punctuation, symbols, entities and emoji, which the normalised blocks do not see
    (``pipeline.build_pipeline(raw_chars=...)``)."""
    text = raw_view(text)
    return [*text, *map(str.__add__, text, text[1:])]


def raw_char_ngrams(doc: str) -> list[str]:
    """:func:`raw_char_grams` of the raw form of a :class:`Normalized` text (an
    analyzer: the pipeline's normalising step makes its input)."""
    raw = getattr(doc, "raw", None)
    if raw is None:
        raise TypeError(
            "the raw-character block reads Normalized texts (features.normalized), "
            "not plain strings"
        )
    return raw_char_grams(raw)


class StableTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose ``max_features`` cut is the same on every machine.

    scikit-learn keeps the ``max_features`` most frequent terms with numpy's default
    sort, which orders equal counts differently on different CPUs (its vector
    instructions), so the terms tied at the cut-off, and with them the model, depended
    on where it was trained.  Here the tie goes to the term that sorts first; every
    other choice, and everything else, is scikit-learn's.
    """

    def _limit_features(self, X, vocabulary, high=None, low=None, limit=None):  # noqa: N803
        if high is not None or low is not None:
            X = super()._limit_features(X, vocabulary, high, low)  # noqa: N806
        if limit is None or X.shape[1] <= limit:
            return X
        # Columns are in term order here (scikit-learn sorts them before the cut).
        counts = np.asarray(X.sum(axis=0)).ravel()
        kept = np.sort(np.argsort(-counts, kind="stable")[:limit])
        index = np.full(X.shape[1], -1)
        index[kept] = np.arange(len(kept))
        for term, old in list(vocabulary.items()):
            if index[old] < 0:
                del vocabulary[term]
            else:
                vocabulary[term] = index[old]
        return X[:, kept]


class LogCountRatioScaler(TransformerMixin, BaseEstimator):
    """Scale each TF-IDF column by its naive-Bayes log-count ratio (NB-LR, Wang & Manning 2012).

    ``r_j = log((p_j / |p|_1) / (q_j / |q|_1))`` with ``p``/``q`` the (sample-weighted)
    column sums over positive/negative rows plus ``alpha``.  A linear model on the scaled
    features is still linear in the TF-IDF features, so the fast scorer folds ``r`` into
    its weights.  The last ``passthrough`` columns (the style tag block) keep ``r = 1``
    and stay out of the sums, so the other columns' ratios are what they would be
    without them.
    """

    # Artifacts saved before v20 were pickled without this setting.
    passthrough = 0

    def __init__(self, alpha: float = 1.0, passthrough: int = 0) -> None:
        self.alpha = alpha
        self.passthrough = passthrough

    def fit(self, X, y, sample_weight=None):  # noqa: N803
        y = np.asarray(y)
        weights = (
            np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
        )
        kept = X.shape[1] - self.passthrough
        scaled = X[:, :kept] if self.passthrough else X
        pos, neg = y == 1, y == 0
        p = self.alpha + np.asarray(scaled[pos].T @ weights[pos]).ravel()
        q = self.alpha + np.asarray(scaled[neg].T @ weights[neg]).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        self.r_ = (
            np.concatenate([r, np.ones(self.passthrough)]) if self.passthrough else r
        )
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):  # noqa: N803
        return sp.csr_matrix(X @ sp.diags(self.r_))

    def inverse_scale(self) -> np.ndarray:
        """Per-column factors that undo :meth:`transform`: ``1 / r_j``, and 0 where
        ``r_j`` is 0 (a column the scaled features never carry)."""
        r = self.r_
        return np.divide(1.0, r, out=np.zeros_like(r), where=r != 0)


# Targeting and frame cues (``cues=True`` in ``pipeline.build_pipeline``): extra word-
# block terms that never collide with n-grams (they hold no space) or tokens (tokens
# never hold "@" or "#").  A message with a second-person target ("you", "ur", "u", an
# @mention) gets every content token conjoined with the target ("@opinion"), so "nobody
# asked for ur opinion" and "nobody asked for the receipts" differ in more than the
# pronoun.  A small hand-written lexicon of abuse frames (written from
# ``train/TAXONOMY.md``'s categories, not from any published lexicon or test suite)
# adds one "#frame" term per matching phrase, and "@#frame" when a target is present,
# so rare phrasings of the same frame share a weight.
TARGET_MARK = "@"
FRAME_MARK = "#"
_FRAMES: dict[str, str] = {
    "exclusion": """
        without you | nobody wants you | no one wants you | nobody likes you |
        no one likes you | not invited | uninvited | left you out | leave you out |
        new chat | new group | kicked you | sit somewhere else | go away | nobody asked |
        no one asked | not welcome | unwanted | loner | friendless | no friends |
        dont come | stay away | nobody invited you | we dont want you | leave us alone |
        not one of us | dont belong | no place for you
    """,
    "threat": """
        see what happens | watch your back | watch ur back | you will regret |
        youll regret | find you | after school | hurt you | beat you | pay for this |
        coming for you | know where you live | wait for you | better watch |
        or else | end you | make you pay | last warning | walk home alone |
        wont see it coming | catch you | jump you | break your | smash your
    """,
    "blackmail": """
        those pics | your pics | screenshots | send them to | post them | tell everyone |
        leak | expose you | whole class | whole school | everyone will see | unless you |
        or i post | or i send | or i tell | answer me or | do it or
    """,
    "self_harm": """
        kys | kill yourself | kill urself | end it | better off without you |
        world would be better | lighter without you | no one would miss |
        nobody would miss | do everyone a favor | do us a favor | disappear |
        jump off | just die | stop existing | not exist | go die | nobody would care
    """,
    "dehumanise": """
        animal | animals | vermin | rats | parasite | parasites | subhuman | cockroach |
        cockroaches | pig | pigs | monkey | monkeys | creature | creatures | plague |
        infestation | savages | savage | filth | breed like | like dogs | not human |
        less than human | waste of oxygen | waste of space | waste of air
    """,
    "demean": """
        worthless | pathetic | useless | disgusting | embarrassing | embarrassment |
        nobody cares | no one cares | loser | failure | trash | garbage | clown |
        cringe | ugly | fat | gross | smell | stink | annoying | dumb | stupid | idiot |
        joke | laughing at you | everyone laughs | nobody likes | no one likes |
        freak | weirdo | creep | hideous | sad excuse
    """,
    "othering": """
        all of them | those people | you people | their kind | your kind | go back to |
        shouldnt be allowed | should be banned | send them back | ruining | taking over |
        people like you | people like them | them all | these people | get rid of
    """,
}


def _frame_table() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for frame, phrases in _FRAMES.items():
        for phrase in phrases.split("|"):
            words = word_tokens(normalize_text(phrase))
            if words:
                # As the text's tokens will look: negation-marked.
                table[tuple(mark_negation(words))] = FRAME_MARK + frame
    return table


FRAME_PHRASES = _frame_table()
_FRAME_SIZES = sorted({len(k) for k in FRAME_PHRASES})
_FRAME_FIRST = frozenset(k[0] for k in FRAME_PHRASES)


def cue_terms(tokens: list[str]) -> list[str]:
    """The targeting and frame terms of (negation-marked) tokens, with repeats."""
    frames: list[str] = []
    if not _FRAME_FIRST.isdisjoint(tokens):
        n = len(tokens)
        for i, token in enumerate(tokens):
            if token in _FRAME_FIRST:
                for size in _FRAME_SIZES:
                    if i + size <= n:
                        frame = FRAME_PHRASES.get(tuple(tokens[i : i + size]))
                        if frame is not None:
                            frames.append(frame)
    bare = [t.lstrip(NEGATED) for t in tokens]
    if SECOND_PERSON.isdisjoint(bare):
        return frames
    return (
        frames
        + [TARGET_MARK + f for f in frames]
        + [
            TARGET_MARK + t
            for t, b in zip(tokens, bare, strict=True)
            if b not in FUNCTION_WORDS
        ]
    )


def addresses_reader(text: str) -> bool:
    """True when ``text`` names its reader as the targeting cues see a target.

    That is a second-person word ("you", "ur", "u", "yourself", …) or an @mention,
    negated or not.  ``python -m train.evaluate`` splits its figures by it.
    """
    return not SECOND_PERSON.isdisjoint(text_tokens(text))


def word_ngrams_neg_cues(normalized: str) -> list[str]:
    """``word_ngrams_neg`` plus the targeting and frame cues (an analyzer)."""
    tokens = mark_negation(word_tokens(normalized))
    return _ngrams_1_3(tokens) + cue_terms(tokens)


WORD_ANALYZERS[word_ngrams_neg_cues] = 3
NEGATION_ANALYZERS = NEGATION_ANALYZERS | {"word_ngrams_neg_cues"}
CUE_ANALYZERS = frozenset({"word_ngrams_neg_cues"})
