"""Looking users up."""

from __future__ import annotations

import re

from sqlalchemy import select

from cyberscan.errors import NotFound
from cyberscan.extensions import db
from cyberscan.models import User

# What a username can be made of (API.md §2). MariaDB's collations ignore trailing
# spaces and NULs, so "bob\x00" or "bob " would otherwise find bob.
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def find_by_username(username: str) -> User | None:
    if not NAME.fullmatch(username):
        return None
    return db.session.scalar(select(User).where(User.username_key == username.lower()))


def get_by_username(username: str) -> User:
    """The user with that name (any case), or NotFound."""
    user = find_by_username(username) if isinstance(username, str) else None
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def find_by_login(username: str | None = None, email: str | None = None) -> User | None:
    if email is not None:
        return db.session.scalar(select(User).where(User.email_key == email.lower()))
    if username is not None:
        return find_by_username(username)
    return None
