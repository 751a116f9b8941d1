"""Looking users up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, func, select

from cyberscan.errors import NotFound
from cyberscan.extensions import db
from cyberscan.models import User

# What a username can be made of (API.md §2). MariaDB's collations ignore trailing
# spaces and NULs, so "bob\x00" or "bob " would otherwise find bob.
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def could_exist(username: str) -> bool:
    """False for a name no account can have (so it must not match one that does)."""
    return bool(NAME.fullmatch(username))


def no_such_user(username: object) -> NotFound:
    """The 404 for an unknown name; a name no account can have (a 10 kB path segment,
    control characters) is not echoed back."""
    if isinstance(username, str) and could_exist(username):
        return NotFound(f"No user named {username!r}.")
    return NotFound("No user by that name.")


def find_by_username(username: str) -> User | None:
    if not could_exist(username):
        return None
    return db.session.scalar(select(User).where(User.username_key == username.lower()))


# Names that read the same in the clients' sans-serif fonts: capital I, small l and
# the digit 1; the letter o and zero; "rn" for m and "vv" for w. Capital I is folded
# before the case is, as its small form (i) has a dot and reads differently.
CAPITAL_I = ("I", "l")
LOOKALIKES = (("1", "l"), ("0", "o"), ("rn", "m"), ("vv", "w"))


def skeleton(username: str) -> str:
    """What a name reads as: two names with one skeleton pass for one person."""
    text = username.replace(*CAPITAL_I).lower()
    for old, new in LOOKALIKES:
        text = text.replace(old, new)
    return text


def _skeleton_of(column: ColumnElement[str]) -> ColumnElement[str]:
    """`skeleton` in SQL (REPLACE matches case-sensitively in SQLite and MySQL alike)."""
    expression = func.lower(func.replace(column, *CAPITAL_I))
    for old, new in LOOKALIKES:
        expression = func.replace(expression, old, new)
    return expression


# Words a member's name may not hold: "admin.jane", "cyberscan_support" or "mod-team"
# reads as the service's staff speaking. Admins are made with `create-admin`, which
# may use them. Compared after folding look-alike digits and letters (STAFF_FOLD), word
# by word (a name's words are its runs of letters), so "adm1n" and "Support_2024"
# count and "badminton" does not.
STAFF_WORDS = ("admin", "administrator", "moderator", "mod", "mods", "staff")
STAFF_WORDS += ("support", "cyberscan", "official", "system", "security")
STAFF_FOLD = str.maketrans("1l03457$", "iioeasts")


def _staff_fold(text: str) -> str:
    text = text.lower().translate(STAFF_FOLD)
    for old, new in LOOKALIKES:  # "rn" for m, "vv" for w (digits are folded above)
        text = text.replace(old, new)
    return text


_STAFF = frozenset(map(_staff_fold, STAFF_WORDS))


def looks_like_staff(username: str) -> bool:
    """Whether a word of the name reads as one of STAFF_WORDS."""
    return any(word in _STAFF for word in re.split(r"[^a-z]+", _staff_fold(username)))


def find_lookalike(username: str) -> User | None:
    """An account whose name reads as this one (a scan: registration is rare)."""
    return db.session.scalar(
        select(User).where(_skeleton_of(User.username) == skeleton(username)).limit(1)
    )


def get_by_username(username: str) -> User:
    """The user with that name (any case), or NotFound."""
    user = find_by_username(username) if isinstance(username, str) else None
    if user is None:
        raise no_such_user(username)
    return user


LOOKUP = "cyberscan.user_ids"


@dataclass(frozen=True)
class Known:
    """A user's id and name: what routing a message needs."""

    id: int
    username: str


def lookup(username: str) -> Known:
    """Id and name by username (any case), cached per app; NotFound when unknown.

    Names never change and accounts are never deleted, so a hit stays right; misses
    are not cached (a new account is found at once). Whatever deletes or renames an
    account must call `forget`.
    """
    if not isinstance(username, str) or not could_exist(username):
        raise no_such_user(username)
    cache: dict[str, Known] = current_app.extensions.setdefault(LOOKUP, {})
    key = username.lower()
    known = cache.get(key)
    if known is None:
        # A connection of its own, returned at once: the caller may then wait on the
        # message writer, and must not hold a pooled connection meanwhile.
        with db.engine.connect() as conn:
            row = conn.execute(
                select(User.id, User.username).where(User.username_key == key)
            ).first()
        if row is None:
            raise no_such_user(username)
        known = cache[key] = Known(row.id, row.username)
    return known


def forget(username: str) -> None:
    """Drop a cached lookup (after an account is renamed or deleted)."""
    current_app.extensions.get(LOOKUP, {}).pop(username.lower(), None)


def find_by_login(username: str | None = None, email: str | None = None) -> User | None:
    if email is not None:
        return db.session.scalar(select(User).where(User.email_key == email.lower()))
    if username is not None:
        return find_by_username(username)
    return None
