"""Looking users up."""

from __future__ import annotations

from sqlalchemy import select

from cyberscan.errors import NotFound
from cyberscan.extensions import db
from cyberscan.models import User


def find_by_username(username: str) -> User | None:
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
