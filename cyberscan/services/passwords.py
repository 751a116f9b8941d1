"""Salted slow hashes (argon2id), tuned from the config."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def hasher() -> PasswordHasher:
    config = current_app.config
    key = (config["PASSWORD_TIME_COST"], config["PASSWORD_MEMORY_COST"])
    cached = current_app.extensions.get("password_hasher")
    if cached is None or cached[0] != key:
        cached = (key, PasswordHasher(time_cost=key[0], memory_cost=key[1]))
        current_app.extensions["password_hasher"] = cached
    return cached[1]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; an unknown account still pays for one hash."""
    ph = hasher()
    if not password_hash:
        ph.hash(password)  # same cost whether or not the account exists
        return False
    try:
        return ph.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
