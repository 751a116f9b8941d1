"""Registration, login, token refresh and revocation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import current_app
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    get_jti,
)
from flask_jwt_extended.config import config as jwt_config
from jwt import PyJWTError
from sqlalchemy import bindparam, select, true
from sqlalchemy.exc import IntegrityError

from cyberscan.errors import (
    AccountBlocked,
    Conflict,
    Forbidden,
    Unauthorized,
    ValidationFailed,
    block_reason,
)
from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import MAX_DB_ID, RevokedToken, User, utcnow
from cyberscan.services import appeals, audit, contacts, users
from cyberscan.services.passwords import hash_password, verify_password

REFRESH_CLAIM = "rjti"
# The user's token epoch when the token was issued: a password change raises it.
EPOCH_CLAIM = "tep"
# When a dashboard session ends (epoch seconds): its renewals never pass it.
SESSION_END_CLAIM = "send"
# An appeal token (a blocked login's) reaches only the strikes and appeal endpoints.
SCOPE_CLAIM = "scope"
APPEAL_SCOPE = "appeal"
BLOCKED_LOGIN = "This account is blocked and cannot log in."
TOKEN_USER_KEY = "cyberscan.token_user"
APPEAL_ONLY = "This token only opens your strikes and appeals; log in to do more."
ADMINS_ONLY = "The dashboard is for administrators only."


def register(
    username: str,
    email: str,
    password: str,
    *,
    is_admin: bool = False,
    member: bool = False,
) -> User:
    """Create an account; the name and the address are unique without regard to case.
    A `member` registering themself may not take a name that reads as the service's
    staff speaking ("admin.jane", "cyberscan_support"); `create-admin` may."""
    if users.find_by_username(username) is not None:
        raise Conflict("That username is already taken.", field="username")
    if users.find_lookalike(username) is not None:
        # Capital I for small l, zero for o: one person posing as another.
        raise Conflict("That username reads like one already taken.", field="username")
    if member and users.looks_like_staff(username):
        message = "Names that read as the service's staff (admin, support, …) are kept."
        raise ValidationFailed(message, errors={"json": {"username": [message]}})
    if users.find_by_login(email=email) is not None:
        raise Conflict("That email is already registered.", field="email")
    user = User(
        username=username,
        username_key=username.lower(),
        email=email,
        email_key=email.lower(),
        password_hash=hash_password(password),
        is_admin=is_admin,
        is_blocked=False,
        bullying_count=0,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:  # a concurrent registration won the race
        db.session.rollback()
        raise Conflict("That username or email is already taken.") from exc
    return user


def issue_tokens(user: User) -> dict[str, str]:
    """A refresh token and an access token that remembers it, so logout revokes both."""
    epoch = {EPOCH_CLAIM: user.token_epoch or 0}
    refresh = create_refresh_token(identity=str(user.id), additional_claims=epoch)
    access = create_access_token(
        identity=str(user.id),
        additional_claims={REFRESH_CLAIM: get_jti(refresh), **epoch},
    )
    return {"access_token": access, "refresh_token": refresh}


def appeal_token(user: User) -> str:
    """A short-lived token that only reads strikes and files appeals."""
    minutes = int(current_app.config["APPEAL_TOKEN_MINUTES"])
    return create_access_token(
        identity=str(user.id),
        additional_claims={SCOPE_CLAIM: APPEAL_SCOPE, EPOCH_CLAIM: user.token_epoch},
        expires_delta=timedelta(minutes=minutes),
    )


def is_appeal_token(claims: dict[str, Any]) -> bool:
    return claims.get(SCOPE_CLAIM) == APPEAL_SCOPE


def authenticate(
    password: str, username: str | None = None, email: str | None = None
) -> User:
    """The account these credentials open; a blocked account is refused, with the
    appeal token that lets its owner read their strikes and contest them."""
    user = users.find_by_login(username=username, email=email)
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
    ):
        raise Unauthorized("Wrong username, email or password.")
    if user.is_blocked:
        appeals.refresh_standing(user)  # expired strikes may have lifted the block
    if user.is_blocked:
        raise AccountBlocked(
            BLOCKED_LOGIN,
            reason=user.blocked_reason or BLOCKED_LOGIN,
            appeal_token=appeal_token(user),
        )
    return user


def login(
    password: str, username: str | None = None, email: str | None = None
) -> dict[str, Any]:
    """Check credentials and issue tokens; a blocked account is refused."""
    user = authenticate(password, username=username, email=email)
    return {**issue_tokens(user), "username": user.username, "user": user}


def refresh(user: User, refresh_jti: str, session_end: int | None = None) -> str:
    """A new access token for the holder of a live refresh token; with `session_end`
    (a dashboard session's), one that ends by then, and none past it."""
    claims: dict[str, Any] = {REFRESH_CLAIM: refresh_jti, EPOCH_CLAIM: user.token_epoch}
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    if session_end is not None:
        left = session_end - int(datetime.now(UTC).timestamp())
        if left <= 0:
            hours = current_app.config["ADMIN_SESSION_HOURS"]
            raise Unauthorized(
                f"A dashboard session lasts {hours} hours at most; log in again."
            )
        claims[SESSION_END_CLAIM] = session_end
        lifetime = min(lifetime, timedelta(seconds=left))
    return create_access_token(
        identity=str(user.id), additional_claims=claims, expires_delta=lifetime
    )


def dashboard_session_end(claims: dict[str, Any]) -> int:
    """When the dashboard session a token belongs to ends: a dashboard login's token
    says so; an API access token (an admin's, sent as Bearer) starts a session that
    ends ADMIN_SESSION_HOURS after it was issued, so renewing never outlasts that."""
    end = claims.get(SESSION_END_CLAIM)
    if isinstance(end, int):
        return end
    hours = current_app.config["ADMIN_SESSION_HOURS"]
    return int(claims["iat"]) + int(hours * 3600)


def dashboard_login(
    password: str, username: str | None = None, email: str | None = None
) -> tuple[User, str]:
    """An administrator's dashboard login: the user and the access token of a new
    session, which ends ADMIN_SESSION_HOURS after the login at the latest, renewals
    included. Anyone else is refused before any token is made."""
    user = authenticate(password, username=username, email=email)
    if not user.is_admin:
        raise Forbidden(ADMINS_ONLY)
    hours = current_app.config["ADMIN_SESSION_HOURS"]
    end = int(datetime.now(UTC).timestamp()) + hours * 3600
    # The session's id, as a refresh token's jti would be: logout revokes it, and with
    # it every access token renewed in the session. No refresh token leaves the server.
    return user, refresh(user, str(uuid.uuid4()), session_end=end)


def session_of(claims: dict[str, Any]) -> str:
    """The refresh token a token belongs to: its own jti for a refresh token."""
    if claims.get("type") == "refresh":
        return str(claims["jti"])
    return str(claims.get(REFRESH_CLAIM) or claims["jti"])


def change_password(
    user: User, claims: dict[str, Any], current_password: str, new_password: str
) -> None:
    """Set a new password; every token of the user but this session's is revoked."""
    if not verify_password(user.password_hash, current_password):
        # Named like a field's error: a client tells it from a dead token's 401.
        wrong = "The current password is not right."
        raise Unauthorized(wrong, errors={"json": {"current_password": [wrong]}})
    user.password_hash = hash_password(new_password)
    user.revoke_tokens(keep_session=session_of(claims))
    audit.record(user, "password_change", user)
    db.session.commit()
    notify.sessions_ended(user.id, keep_family=session_of(claims))


def revoke(claims: dict[str, Any]) -> None:
    """Revoke the token with these claims and, for an access token, its refresh token."""
    user_id = int(claims["sub"])
    expires = datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None)
    jtis = {claims["jti"]: claims.get("type", "access")}
    if claims.get(REFRESH_CLAIM):
        jtis[claims[REFRESH_CLAIM]] = "refresh"
    known = set(
        db.session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(jtis)))
    )
    for jti, kind in jtis.items():
        if jti not in known:
            db.session.add(
                RevokedToken(
                    jti=jti, token_type=kind, user_id=user_id, expires_at=expires
                )
            )
    db.session.commit()
    notify.token_revoked(session_of(claims))


def _revocation_jtis(claims: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `REVOKED`: the token's own jti and, for an access token, its
    refresh token's (the token's own again when it has none)."""
    return {"jti": claims["jti"], "rjti": claims.get(REFRESH_CLAIM) or claims["jti"]}


def is_revoked(claims: dict[str, Any]) -> bool:
    """True when the token, or the refresh token it came from, was revoked, or it was
    issued before the user's last password change by another session."""
    user, revoked = _token_user(claims)
    # Flask-JWT-Extended asks `load_user` next: holding the row here keeps it in the
    # session's identity map (a weak map), so that finds it without a second query.
    db.session.info[TOKEN_USER_KEY] = user
    if user is not None and user.is_blocked and not is_appeal_token(claims):
        # The block revoked its tokens for good, but while it lasts they are refused
        # as blocked (403, by `load_user`), not as revoked.
        return False
    return revoked


# Whether :jti or :rjti is revoked, and the token's user with it (built once: every
# connect and every REST request runs it). Two plain parameters rather than an
# expanding IN, which SQLAlchemy re-renders into the SQL string on every execution.
REVOKED = (
    select(RevokedToken.jti)
    .where(RevokedToken.jti.in_([bindparam("jti"), bindparam("rjti")]))
    .exists()
)
TOKEN_USER = select(User, REVOKED).where(User.id == bindparam("user_id"))
ANY_REVOKED = select(REVOKED)


def _token_user(claims: dict[str, Any]) -> tuple[User | None, bool]:
    """The token's user (None when there is none) and whether the token is revoked
    (see `is_revoked`), in one query."""
    jtis = _revocation_jtis(claims)
    user_id = subject_id(claims)
    row = (
        db.session.execute(TOKEN_USER, {"user_id": user_id, **jtis}).first()
        if user_id is not None
        else None
    )
    if row is None:  # no such account: only the revocation list can answer
        return None, bool(db.session.scalar(ANY_REVOKED, jtis))
    user, found = row
    return user, bool(found) or _before_password_change(claims, user)


def _before_password_change(claims: dict[str, Any], user: Any) -> bool:
    """Issued before the user's last password change, by another session (`user`:
    a User or a row with its `token_epoch` and `kept_session`)."""
    if not user.token_epoch:
        return False
    epoch = claims.get(EPOCH_CLAIM)
    if isinstance(epoch, int) and epoch >= user.token_epoch:
        return False
    return session_of(claims) != user.kept_session


def subject_id(claims: dict[str, Any]) -> int | None:
    """The user id a token names; None when its subject is no id any account can have
    (a token with such a subject is invalid, however well signed)."""
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError, KeyError):
        return None
    return user_id if 0 < user_id <= MAX_DB_ID else None


def load_user(claims: dict[str, Any]) -> User | None:
    """The token's user; a blocked account stops every token but its appeal token."""
    user_id = subject_id(claims)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is not None and user.is_blocked and not is_appeal_token(claims):
        raise AccountBlocked.because(user.blocked_reason)
    return user


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """Who a socket connection is, from its access token: what a connect needs."""

    id: int
    username: str
    is_admin: bool
    family: str  # the login session (see `session_of`): logout and revocation end it
    contacts: dict[int, str]  # the user's contacts by id, with their names
    epoch: int | None = None  # the token's password epoch (EPOCH_CLAIM)


# A connection's hold: (user id, its token's password epoch, its login session).
Held = tuple[int, int | None, str]
# Ids per query when checking the sessions open connections hold.
HELD_CHUNK = 500
# How long a session check leaves a new block to its own event.
FRESH_BLOCK = timedelta(seconds=10)


def _in_parts(values: set[Any]) -> list[list[Any]]:
    """`values`, sorted, in lists of at most HELD_CHUNK (one IN query each)."""
    ordered = sorted(values)
    return [ordered[i : i + HELD_CHUNK] for i in range(0, len(ordered), HELD_CHUNK)]


def ended_sessions(
    held: Iterable[Held], now: datetime | None = None
) -> dict[Held, str | None]:
    """Of the sessions open connections hold, those that no longer open anything, each
    with the block's reason when its account is blocked (None otherwise): the account
    is gone or blocked, the session logged out, or the password changed since by
    another session. A serving process checks its connections with this, as a reset
    from the command line or a block while Redis was down may not have told it.

    A block younger than FRESH_BLOCK is left out: its own `account_blocked` is on its
    way, after the acknowledgement of the send that made it (a check in between would
    say it first, or twice)."""
    settled = (now or utcnow()) - FRESH_BLOCK
    held = set(held)
    users = {
        row.id: row
        for part in _in_parts({user_id for user_id, _, _ in held})
        for row in db.session.execute(
            select(
                User.id,
                User.token_epoch,
                User.kept_session,
                User.is_blocked,
                User.blocked_reason,
                User.blocked_at,
            ).where(User.id.in_(part))
        )
    }
    revoked = {
        jti
        for part in _in_parts({family for _, _, family in held})
        for jti in db.session.scalars(
            select(RevokedToken.jti).where(RevokedToken.jti.in_(part))
        )
    }
    ended: dict[Held, str | None] = {}
    for user_id, epoch, family in held:
        user = users.get(user_id)
        claims = {EPOCH_CLAIM: epoch, REFRESH_CLAIM: family, "jti": family}
        if user is not None and user.is_blocked:
            # A block also revokes every token: said as the block, with its reason.
            if user.blocked_at is None or user.blocked_at <= settled:
                ended[user_id, epoch, family] = block_reason(user.blocked_reason)
        elif user is None or family in revoked or _before_password_change(claims, user):
            ended[user_id, epoch, family] = None
    return ended


def _decode_access(token: str) -> dict[str, Any]:
    """The verified claims of a token: signature, expiry, audience and issuer checked
    as `flask_jwt_extended.decode_token` does, but parsing the token once (that one
    parses it three times to offer a per-token key loader, which this app does not
    register: the key is always `JWT_SECRET_KEY`)."""
    claims = jwt.decode(
        token,
        jwt_config.decode_key,
        algorithms=jwt_config.decode_algorithms,
        audience=jwt_config.decode_audience,
        issuer=jwt_config.decode_issuer,
        leeway=jwt_config.leeway,
        options={
            "verify_aud": jwt_config.decode_audience is not None,
            "verify_sub": jwt_config.verify_sub,
        },
    )
    if jwt_config.identity_claim_key not in claims:
        raise Unauthorized("The token is invalid or has expired.")
    claims.setdefault("type", "access")
    claims.setdefault("jti", None)
    return claims


# The connect path's one query: the token user's columns that a connection needs,
# whether the token is revoked, and the user's contacts with their names (one row per
# contact, or one row with no contact). Core columns: no ORM entity is built; it
# runs on the session's connection, skipping the ORM's execute steps (~15% of the
# check's CPU, measured on MariaDB).
_USERS = User.__table__.c
_CONTACTS = contacts.CONTACTS_FROM
CONNECT = (
    select(
        _USERS.id,
        _USERS.username,
        _USERS.is_admin,
        _USERS.is_blocked,
        _USERS.blocked_reason,
        _USERS.token_epoch,
        _USERS.kept_session,
        REVOKED.label("revoked"),
        _CONTACTS.c.id.label("contact_id"),
        _CONTACTS.c.username.label("contact_name"),
    )
    .select_from(User.__table__)
    .outerjoin(_CONTACTS, true())
    .where(_USERS.id == bindparam("user_id"))
)


def connect_identity(token: object) -> SocketIdentity:
    """Identity for a socket connection, in one query: the token verified (signature,
    expiry, type, revocation and session family), a blocked account refused
    (AccountBlocked), anything else wrong Unauthorized."""
    if not isinstance(token, str) or not token:
        raise Unauthorized("A valid access token is required.")
    try:
        claims = _decode_access(token)
    except PyJWTError as exc:
        raise Unauthorized("The token is invalid or has expired.") from exc
    if claims.get("type") != "access":
        raise Unauthorized("An access token is required.")
    if is_appeal_token(claims):
        raise Unauthorized(APPEAL_ONLY)
    jtis = _revocation_jtis(claims)
    user_id = subject_id(claims)
    rows = (
        db.session.connection().execute(CONNECT, {"user_id": user_id, **jtis}).all()
        if user_id is not None
        else []
    )
    if not rows:  # no such account: only the revocation list can answer
        if db.session.scalar(ANY_REVOKED, jtis):
            raise Unauthorized("The token has been revoked.")
        raise Unauthorized("The token's account no longer exists.")
    user = rows[0]
    if user.is_blocked:  # its tokens were revoked too (see `is_revoked`)
        raise AccountBlocked.because(user.blocked_reason)
    if user.revoked or _before_password_change(claims, user):
        raise Unauthorized("The token has been revoked.")
    epoch = claims.get(EPOCH_CLAIM)
    return SocketIdentity(
        user.id,
        user.username,
        bool(user.is_admin),
        session_of(claims),
        {
            row.contact_id: row.contact_name
            for row in rows
            if row.contact_id is not None
        },
        epoch if isinstance(epoch, int) else None,
    )


def purge_expired_revocations() -> int:
    """Drop revocations whose tokens have expired anyway."""
    deleted = RevokedToken.__table__.delete().where(RevokedToken.expires_at < utcnow())
    count = db.session.execute(deleted).rowcount
    db.session.commit()
    return count
