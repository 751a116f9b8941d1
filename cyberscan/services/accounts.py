"""Operator changes to accounts (the `flask` commands): admin rights and passwords."""

from __future__ import annotations

from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import User
from cyberscan.services import audit, users
from cyberscan.services.passwords import hash_password


def promote_to_admin(username: str) -> bool:
    """Give an existing account admin rights; False when it already had them."""
    user = users.get_by_username(username)
    if user.is_admin:
        return False
    user.is_admin = True
    db.session.commit()
    return True


def set_password(username: str, password: str) -> User:
    """Replace an account's password and end every session it had, sockets included."""
    user = users.get_by_username(username)
    user.password_hash = hash_password(password)
    # A reset is for an account someone else may hold: no session survives it.
    user.revoke_tokens()
    audit.record(None, "password_reset", user)
    db.session.commit()
    notify.sessions_ended(user.id)
    return user


def list_admins() -> list[User]:
    """Every admin account, by name."""
    return list(
        db.session.scalars(
            select(User).where(User.is_admin.is_(True)).order_by(User.username_key)
        )
    )
