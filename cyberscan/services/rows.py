"""Rows by their integer id, for the services that answer 404 for a missing one."""

from __future__ import annotations

from typing import TypeVar

from cyberscan.errors import NotFound
from cyberscan.extensions import db
from cyberscan.models import MAX_DB_ID

T = TypeVar("T")


def by_id(model: type[T], ident: int) -> T | None:
    """The row with this id, or None: also for a number no id column holds (the
    database driver would raise on it rather than find nothing)."""
    return db.session.get(model, ident) if 0 < ident <= MAX_DB_ID else None


def found(model: type[T], ident: int, missing: str) -> T:
    """The row with this id, or NotFound saying `missing`."""
    row = by_id(model, ident)
    if row is None:
        raise NotFound(missing)
    return row
