"""Retried posts and comments: a request's `client_id` stores one item, ever.

The unique key (author_id, client_id) of a live row refuses a second copy, racing
retries included; `moderation.publish` then answers the first. A deleted item leaves
its key in `spent_client_ids`, so a late retry is told it is gone instead of storing
it again (with a second strike when it was flagged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert, literal, select

from cyberscan.errors import NotFound
from cyberscan.extensions import db
from cyberscan.models import Comment, Post, SpentClientId, utcnow
from cyberscan.models.base import UTCDateTime

T = TypeVar("T", Post, Comment)


def first_copy(
    model: type[T], kind: str, author_id: int, client_id: str | None
) -> Callable[[], T | None] | None:
    """`publish`'s `existing` for a request: the item this author's client_id stored,
    or None; NotFound when it was stored and deleted since. None without a client_id."""
    if client_id is None:
        return None

    def existing() -> T | None:
        found = db.session.scalar(
            select(model).where(
                model.author_id == author_id, model.client_id == client_id
            )
        )
        if found is None and db.session.get(
            SpentClientId, (kind, author_id, client_id)
        ):
            raise NotFound(f"This {kind} was sent before and has been deleted since.")
        return found

    return existing


def spend(model: type[T], kind: str, *where: Any) -> None:
    """Stage: the client_ids of the `model` rows `where` picks (about to be deleted)
    stay taken."""
    rows = select(
        literal(kind), model.author_id, model.client_id, literal(utcnow(), UTCDateTime)
    ).where(model.client_id.is_not(None), *where)
    db.session.execute(
        insert(SpentClientId).from_select(
            ["kind", "author_id", "client_id", "created_at"], rows
        )
    )
