"""The connect path's token check (`auth.connect_identity`): one query answers who the
token's user is, whether the token still stands, and the user's contacts."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token, decode_token

from cyberscan.errors import AccountBlocked, Unauthorized
from cyberscan.extensions import db
from cyberscan.models import User, UserBlock
from cyberscan.services import auth
from tests.people import send


def identity(app, token):
    with app.app_context():
        return auth.connect_identity(token)


def test_identity_carries_family_and_contacts(app, client, trio):
    alice, bob, carol = trio
    send(client, alice, "bob", "hi")
    found = identity(app, alice.token)
    with app.app_context():
        claims = decode_token(alice.token)
    assert (found.id, found.username, found.is_admin) == (alice.id, "alice", False)
    assert found.family == auth.session_of(claims)
    assert found.contacts == {bob.id: "bob"}
    assert identity(app, carol.token).contacts == {}


def test_a_block_removes_the_contact(app, client, trio):
    alice, bob, _ = trio
    send(client, alice, "bob", "hi")
    with app.app_context():
        db.session.add(UserBlock(blocker_id=bob.id, blocked_id=alice.id))
        db.session.commit()
    assert identity(app, alice.token).contacts == {}
    assert identity(app, bob.token).contacts == {}


def test_blocked_user_is_refused_as_blocked(app, trio):
    alice = trio[0]
    with app.app_context():
        db.session.get(User, alice.id).is_blocked = True
        db.session.commit()
    with pytest.raises(AccountBlocked):
        identity(app, alice.token)


@pytest.mark.parametrize(
    "make",
    [
        "expired",
        "wrong_key",
        "no_subject",
        "refresh",
        "unknown_user",
        "huge_subject",
        "garbage",
        "not_a_string",
    ],
)
def test_bad_tokens_are_unauthorized(app, trio, make):
    alice = trio[0]
    with app.app_context():
        secret = app.config["JWT_SECRET_KEY"]
        tokens = {
            "expired": create_access_token(
                str(alice.id), expires_delta=timedelta(seconds=-30)
            ),
            "wrong_key": jwt.encode(
                {**decode_token(alice.token)}, "another" + secret, algorithm="HS256"
            ),
            "no_subject": jwt.encode(
                {k: v for k, v in decode_token(alice.token).items() if k != "sub"},
                secret,
                algorithm="HS256",
            ),
            "refresh": auth.issue_tokens(db.session.get(User, alice.id))[
                "refresh_token"
            ],
            "unknown_user": create_access_token("987654321"),
            "huge_subject": create_access_token(str(10**30)),
            "garbage": "x.y.z",
            "not_a_string": {"token": alice.token},
        }
    with pytest.raises(Unauthorized):
        identity(app, tokens[make])


def test_a_token_without_refresh_claim_is_checked_by_its_own_jti(app, trio):
    """`rjti` absent: the revocation check looks at the token's own jti (twice)."""
    alice = trio[0]
    with app.app_context():
        token = create_access_token(str(alice.id))
    assert identity(app, token).id == alice.id
    with app.app_context():
        auth.revoke(decode_token(token))
    with pytest.raises(Unauthorized, match="revoked"):
        identity(app, token)
    assert identity(app, alice.token).id == alice.id
