"""Strikes a person can see and contest (API.md §9): strikes, appeals, the appeal
token, the admins' decisions, dismissals, expiry and a flag's context."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cyberscan.extensions import db
from cyberscan.models import Appeal, AuditLog, Flag, User, utcnow
from tests.fixtures_realtime import events
from tests.helpers import PASSWORD, FixedScoreDetector, assert_error, bearer
from tests.people import count_rows, get, send

STRIKE_KEYS = {"id", "kind", "content", "created_at", "probability", "status", "appeal"}


def login_blocked(client, name: str) -> dict:
    body = assert_error(
        client.post("/api/login", json={"username": name, "password": PASSWORD}),
        403,
        "blocked",
    )
    assert body["reason"] and body["appeal_token"]
    return body


def strike_ids(client, headers) -> list[int]:
    return [
        s["id"]
        for s in client.get("/api/me/strikes", headers=headers).get_json()["strikes"]
    ]


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def appeal(client, headers, strike_id, reason="It was a joke between friends."):
    return client.post(
        "/api/appeals", json={"strike_id": strike_id, "reason": reason}, headers=headers
    )


def test_strikes_list_what_was_flagged(client, trio, flagging):
    alice, bob, _ = trio
    send(client, alice, "bob", "you loser")
    send(client, alice, "bob", "idiot")
    body = get(client, alice, "/api/me/strikes")
    assert (body["bullying_count"], body["max_bullying_count"], body["remaining"]) == (
        2,
        5,
        3,
    )
    assert body["is_blocked"] is False and body["block_reason"] is None
    assert [s["content"] for s in body["strikes"]] == ["idiot", "you loser"]
    strike = body["strikes"][0]
    assert set(strike) == STRIKE_KEYS
    assert (strike["kind"], strike["status"], strike["appeal"]) == (
        "message",
        "active",
        None,
    )
    assert strike["probability"] == pytest.approx(0.97) and strike[
        "created_at"
    ].endswith("Z")
    # Nobody reads another person's strikes: bob's list is his own, and empty.
    assert get(client, bob, "/api/me/strikes")["strikes"] == []


def test_blocked_login_gets_an_appeal_token_and_an_accepted_appeal_lets_them_back(
    app, client, trio, admin_headers, flagging
):
    alice, bob, _ = trio
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    token = bearer(login_blocked(client, "alice")["appeal_token"])
    body = client.get("/api/me/strikes", headers=token).get_json()
    assert (
        body["is_blocked"] is True and body["block_reason"] and body["remaining"] == 0
    )
    first = body["strikes"][-1]["id"]
    response = appeal(client, token, first)
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    assert (
        filed["strike_id"],
        filed["status"],
        filed["note"],
        filed["decided_at"],
    ) == (first, "open", None, None)
    assert_error(appeal(client, token, first), 409, "conflict")  # one appeal per strike

    queue = client.get("/api/admin/appeals", headers=admin_headers).get_json()
    item = queue["items"][0]
    assert (item["author"], item["strike"]["id"], item["strike"]["content"]) == (
        "alice",
        first,
        "insult 0",
    )
    assert item["author_is_blocked"] is True and item["author_bullying_count"] == 5
    decided = client.post(
        f"/api/admin/appeals/{filed['id']}",
        json={"decision": "accept", "note": "Fair"},
        headers=admin_headers,
    )
    assert decided.status_code == 200, decided.get_json()
    assert (decided.get_json()["status"], decided.get_json()["decided_by"]) == (
        "accepted",
        "root_admin",
    )

    body = client.get("/api/me/strikes", headers=token).get_json()
    assert (body["bullying_count"], body["is_blocked"]) == (4, False)
    assert body["strikes"][-1]["status"] == "dismissed"
    assert body["strikes"][-1]["appeal"]["status"] == "accepted"
    assert (
        client.post(
            "/api/login", json={"username": "alice", "password": PASSWORD}
        ).status_code
        == 200
    )
    assert (
        client.get("/api/admin/appeals", headers=admin_headers).get_json()["items"]
        == []
    )
    assert {"appeal_filed", "appeal_accept", "auto_unblock"} <= set(actions(app))


def test_rejected_appeal_upholds_the_strike_and_the_author_is_told_live(
    client, trio, connect, admin_headers, flagging
):
    alice, bob, _ = trio
    send(client, alice, "bob", "you loser")
    sio = connect(alice)
    events(sio)
    strike = strike_ids(client, alice.headers)[0]
    filed = appeal(client, alice.headers, strike).get_json()
    client.post(
        f"/api/admin/appeals/{filed['id']}",
        json={"decision": "reject", "note": "It was meant."},
        headers=admin_headers,
    )
    assert events(sio, "appeal_decided") == [
        {
            "appeal_id": filed["id"],
            "decision": "reject",
            "note": "It was meant.",
            "bullying_count": 1,
            "remaining": 4,
        }
    ]
    body = get(client, alice, "/api/me/strikes")
    assert body["strikes"][0]["status"] == "upheld" and body["bullying_count"] == 1
    assert_error(
        client.post(
            f"/api/admin/appeals/{filed['id']}",
            json={"decision": "accept"},
            headers=admin_headers,
        ),
        409,
        "conflict",
    )


def test_unblock_with_a_reset_accepts_the_open_appeals_and_tells_the_author(
    client, trio, connect, admin_headers, flagging
):
    alice, _, _ = trio
    send(client, alice, "bob", "you loser")
    send(client, alice, "bob", "idiot")
    sio = connect(alice)
    events(sio)
    first, second = strike_ids(client, alice.headers)
    filed = appeal(client, alice.headers, first).get_json()

    response = client.post(
        "/api/admin/users/alice/unblock",
        json={"reset_count": True},
        headers=admin_headers,
    )
    assert response.status_code == 200

    assert events(sio, "appeal_decided") == [
        {
            "appeal_id": filed["id"],
            "decision": "accept",
            "note": "The flag was dismissed by a moderator.",
            "bullying_count": 0,
            "remaining": 5,
        }
    ]
    body = get(client, alice, "/api/me/strikes")
    assert [s["status"] for s in body["strikes"]] == ["dismissed", "dismissed"]
    assert body["strikes"][0]["appeal"]["status"] == "accepted"
    assert body["strikes"][1]["appeal"] is None
    assert (
        client.get("/api/admin/appeals", headers=admin_headers).get_json()["items"]
        == []
    )
    # A decided appeal cannot be rejected afterwards (which would leave its strike
    # dismissed while the appeal says upheld).
    assert_error(
        client.post(
            f"/api/admin/appeals/{filed['id']}",
            json={"decision": "reject"},
            headers=admin_headers,
        ),
        409,
        "conflict",
    )


def test_accepting_an_appeal_does_not_lift_an_admin_block(
    client, trio, admin_headers, flagging
):
    alice, _, _ = trio
    send(client, alice, "bob", "you loser")
    strike = strike_ids(client, alice.headers)[0]
    client.post(
        "/api/admin/users/alice/block", json={"reason": "Spam"}, headers=admin_headers
    )
    token = bearer(login_blocked(client, "alice")["appeal_token"])
    filed = appeal(client, token, strike).get_json()
    client.post(
        f"/api/admin/appeals/{filed['id']}",
        json={"decision": "accept"},
        headers=admin_headers,
    )
    body = client.get("/api/me/strikes", headers=token).get_json()
    assert (body["bullying_count"], body["is_blocked"], body["block_reason"]) == (
        0,
        True,
        "Spam",
    )


def test_the_appeal_token_opens_nothing_else(app, client, trio, raw_socket, flagging):
    alice, _, _ = trio
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    token = login_blocked(client, "alice")["appeal_token"]
    guarded = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"people.get_strikes", "people.create_appeal"}:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = (
                path.replace(f"<int:{arg}>", "1")
                .replace(f"<string:{arg}>", "bob")
                .replace(f"<{arg}>", "bob")
            )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            anonymous = client.open(path, method=method)
            if anonymous.status_code != 401:
                continue  # a public endpoint, or one that answers before auth
            guarded += 1
            response = client.open(path, method=method, headers=bearer(token))
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.get_json()["error"] == "unauthorized"
    assert guarded > 25
    sio = raw_socket({"token": token})
    assert not sio.is_connected()
    # The strikes and appeal endpoints still answer it.
    assert client.get("/api/me/strikes", headers=bearer(token)).status_code == 200


def test_a_normal_token_of_a_blocked_account_reaches_no_strikes(client, trio, flagging):
    alice, _, _ = trio
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    assert_error(client.get("/api/me/strikes", headers=alice.headers), 403, "blocked")


BAD_APPEALS = [
    {},
    {"strike_id": 1},
    {"reason": "why"},
    {"strike_id": "1", "reason": "why"},
    {"strike_id": 0, "reason": "why"},
    {"strike_id": -3, "reason": "why"},
    {"strike_id": True, "reason": "why"},
    {"strike_id": 1, "reason": ""},
    {"strike_id": 1, "reason": "   "},
    {"strike_id": 1, "reason": "x" * 1001},
    {"strike_id": 1, "reason": "why", "status": "accepted"},
]


def test_appeal_rejects_bad_bodies(app, client, trio, flagging):
    send(client, trio[0], "bob", "you loser")
    for body in BAD_APPEALS:
        response = client.post("/api/appeals", json=body, headers=trio[0].headers)
        assert_error(response, 422, "validation_error")
    assert count_rows(app, Appeal) == 0


def test_appealing_someone_elses_strike_is_not_found(app, client, trio, flagging):
    alice, bob, _ = trio
    send(client, alice, "bob", "you loser")
    strike = strike_ids(client, alice.headers)[0]
    assert_error(appeal(client, bob.headers, strike), 404, "not_found")
    assert_error(appeal(client, bob.headers, 10**9), 404, "not_found")
    assert count_rows(app, Appeal) == 0


BAD_DECISIONS = [
    ("/api/admin/appeals/999", {"decision": "accept"}, 404, "not_found"),
    ("/api/admin/appeals/{id}", {"decision": "maybe"}, 422, "validation_error"),
    ("/api/admin/appeals/{id}", {}, 422, "validation_error"),
    (
        "/api/admin/appeals/{id}",
        {"decision": "accept", "note": "x" * 501},
        422,
        "validation_error",
    ),
    (
        "/api/admin/appeals/{id}",
        {"decision": "accept", "author": "x"},
        422,
        "validation_error",
    ),
]


def test_appeal_decision_rejects_bad_input(app, client, trio, admin_headers, flagging):
    alice = trio[0]
    send(client, alice, "bob", "you loser")
    filed = appeal(
        client, alice.headers, strike_ids(client, alice.headers)[0]
    ).get_json()
    for path, body, status, code in BAD_DECISIONS:
        response = client.post(
            path.format(id=filed["id"]), json=body, headers=admin_headers
        )
        assert_error(response, status, code)
    with app.app_context():
        assert db.session.get(Appeal, filed["id"]).status == "open"


def test_only_admins_see_and_decide_appeals(client, trio, flagging):
    alice, bob, _ = trio
    send(client, alice, "bob", "you loser")
    filed = appeal(
        client, alice.headers, strike_ids(client, alice.headers)[0]
    ).get_json()
    assert_error(
        client.get("/api/admin/appeals", headers=bob.headers), 403, "forbidden"
    )
    assert_error(
        client.post(
            f"/api/admin/appeals/{filed['id']}",
            json={"decision": "accept"},
            headers=alice.headers,
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.get("/api/admin/appeals?status=nope", headers=bob.headers),
        403,
        "forbidden",
    )


def test_appeal_queue_is_oldest_first(client, member, admin_headers, flagging):
    ids = []
    for name in ("ann", "ben", "cat"):
        who = member(name)
        send(client, who, "root_admin", "you loser")
        ids.append(
            appeal(client, who.headers, strike_ids(client, who.headers)[0]).get_json()[
                "id"
            ]
        )
    page = client.get("/api/admin/appeals?limit=2", headers=admin_headers).get_json()
    rest = client.get(
        f"/api/admin/appeals?limit=2&cursor={page['next_cursor']}",
        headers=admin_headers,
    ).get_json()
    assert [a["id"] for a in page["items"] + rest["items"]] == ids
    assert_error(
        client.get("/api/admin/appeals?status=nope", headers=admin_headers),
        422,
        "validation_error",
    )


def test_dismissing_a_flag_gives_the_strike_back_and_unblocks(
    app, client, trio, admin_headers, flagging
):
    alice, _, _ = trio
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    token = bearer(login_blocked(client, "alice")["appeal_token"])
    strikes = client.get("/api/me/strikes", headers=token).get_json()["strikes"]
    filed = appeal(client, token, strikes[0]["id"]).get_json()
    response = client.post(
        f"/api/admin/flagged/{strikes[0]['id']}/review",
        json={"action": "dismiss"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    body = client.get("/api/me/strikes", headers=token).get_json()
    assert (body["bullying_count"], body["is_blocked"]) == (4, False)
    assert body["strikes"][0]["status"] == "dismissed"
    assert body["strikes"][0]["appeal"]["status"] == "accepted"
    # Removing an item upholds its strike.
    client.post(
        f"/api/admin/flagged/{strikes[1]['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert (
        client.get("/api/me/strikes", headers=token).get_json()["strikes"][1]["status"]
        == "upheld"
    )
    with app.app_context():
        assert db.session.get(Appeal, filed["id"]).decided_at is not None


def backdate(app, user_id: int, count: int, days: int) -> None:
    """Make the user's `count` oldest strikes `days` old."""
    with app.app_context():
        ids = db.session.scalars(
            select(Flag.id)
            .where(Flag.author_id == user_id)
            .order_by(Flag.id)
            .limit(count)
        ).all()
        db.session.execute(
            update(Flag)
            .where(Flag.id.in_(ids))
            .values(created_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def test_old_strikes_expire_and_lift_an_automatic_block(app, client, trio, flagging):
    alice, _, _ = trio
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    backdate(app, alice.id, 2, days=91)
    response = client.post(
        "/api/login", json={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    body = client.get(
        "/api/me/strikes", headers=bearer(response.get_json()["access_token"])
    ).get_json()
    assert body["bullying_count"] == 3 and body["is_blocked"] is False
    assert [s["status"] for s in body["strikes"]] == ["active"] * 3 + ["expired"] * 2
    assert_error(
        appeal(
            client,
            bearer(response.get_json()["access_token"]),
            body["strikes"][-1]["id"],
        ),
        409,
        "conflict",
    )


def test_a_new_strike_does_not_count_expired_ones(app, client, trio, flagging):
    alice, _, _ = trio
    for n in range(4):
        send(client, alice, "bob", f"insult {n}")
    backdate(app, alice.id, 4, days=100)
    send(client, alice, "bob", "one more")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert (user.bullying_count, user.is_blocked) == (1, False)


@pytest.fixture
def app_settings(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_settings", [{"STRIKE_TTL_DAYS": 0}], indirect=True)
def test_strikes_never_expire_when_the_ttl_is_zero(app, client, trio, flagging):
    alice = trio[0]
    send(client, alice, "bob", "you loser")
    backdate(app, alice.id, 1, days=5000)
    body = get(client, alice, "/api/me/strikes")
    assert body["bullying_count"] == 1 and body["strikes"][0]["status"] == "active"


def test_flag_context_shows_the_conversation_around_it(
    app, client, trio, admin, admin_headers
):
    alice, bob, carol = trio
    app.extensions["detector"] = FixedScoreDetector(0.05, terms=())
    for n in range(4):
        send(client, alice if n % 2 else bob, "bob" if n % 2 else "alice", f"m{n}")
    send(client, carol, "alice", "elsewhere")
    app.extensions["detector"] = FixedScoreDetector(0.97)
    flagged = send(client, alice, "bob", "you loser")
    app.extensions["detector"] = FixedScoreDetector(0.05, terms=())
    send(client, bob, "alice", "ouch")
    flag_id = client.get("/api/admin/flagged", headers=admin_headers).get_json()[
        "items"
    ][0]["id"]
    response = client.get(
        f"/api/admin/flagged/{flag_id}/context", headers=admin_headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["author"], body["receiver"], body["item_id"]) == (
        "alice",
        "bob",
        flagged["id"],
    )
    assert [m["message"] for m in body["messages"]] == [
        "m1",
        "m2",
        "m3",
        "you loser",
        "ouch",
    ]
    with app.app_context():
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "flag_context_viewed")
        ).one()
        assert entry.actor_id == admin.id and entry.details["flag_id"] == flag_id
    assert_error(
        client.get(f"/api/admin/flagged/{flag_id}/context", headers=bob.headers),
        403,
        "forbidden",
    )
    assert_error(
        client.get("/api/admin/flagged/999/context", headers=admin_headers),
        404,
        "not_found",
    )


def test_an_unblock_with_reset_dismisses_the_strikes(
    client, trio, admin_headers, flagging
):
    alice = trio[0]
    for n in range(5):
        send(client, alice, "bob", f"insult {n}")
    client.post("/api/admin/users/alice/unblock", json={}, headers=admin_headers)
    response = client.post(
        "/api/login", json={"username": "alice", "password": PASSWORD}
    )
    strikes = client.get(
        "/api/me/strikes", headers=bearer(response.get_json()["access_token"])
    ).get_json()
    assert strikes["bullying_count"] == 0
    assert {s["status"] for s in strikes["strikes"]} == {"dismissed"}
