"""GET /api/chat/messages/<username>: paginated history and catching up (API.md §4)."""

from __future__ import annotations

import pytest

from tests.fixtures_realtime import events
from tests.helpers import FixedScoreDetector, assert_error


def send(client, sender, receiver: str, text: str) -> dict:
    response = client.post(
        f"/api/chat/messages/{receiver}", json={"message": text}, headers=sender.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def history(client, who, other: str, **params) -> dict:
    response = client.get(
        f"/api/chat/messages/{other}", query_string=params, headers=who.headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def conversation(client, trio):
    alice, bob, carol = trio
    sent = []
    for i in range(5):
        sent.append(send(client, alice, "bob", f"a{i}"))
        sent.append(send(client, bob, "alice", f"b{i}"))
    send(client, alice, "carol", "not in this conversation")
    return sent


def test_newest_page_first_items_oldest_to_newest(client, trio, conversation):
    alice = trio[0]
    page = history(client, alice, "bob", limit=4)
    assert [m["message"] for m in page["items"]] == ["a3", "b3", "a4", "b4"]
    older = history(client, alice, "bob", limit=4, cursor=page["next_cursor"])
    assert [m["message"] for m in older["items"]] == ["a1", "b1", "a2", "b2"]
    oldest = history(client, alice, "bob", limit=4, cursor=older["next_cursor"])
    assert [m["message"] for m in oldest["items"]] == ["a0", "b0"]
    assert oldest["next_cursor"] is None


def test_both_participants_see_the_same_conversation(client, trio, conversation):
    alice, bob, carol = trio
    mine = history(client, alice, "bob")["items"]
    theirs = history(client, bob, "ALICE")["items"]
    assert mine == theirs and len(mine) == 10
    assert set(mine[0]) >= {
        "id",
        "sender",
        "receiver",
        "message",
        "timestamp",
        "is_bullying",
        "bullying_probability",
        "is_read",
        "client_id",
    }


def test_an_outsider_only_sees_their_own_conversation(client, trio, conversation):
    carol = trio[2]
    assert history(client, carol, "bob")["items"] == []
    assert [m["message"] for m in history(client, carol, "alice")["items"]] == [
        "not in this conversation"
    ]


def test_after_catches_up_oldest_first(client, trio, conversation):
    bob = trio[1]
    seen = conversation[3]["id"]  # b1
    page = history(client, bob, "alice", after=seen, limit=3)
    assert [m["message"] for m in page["items"]] == ["a2", "b2", "a3"]
    rest = history(
        client, bob, "alice", after=seen, limit=3, cursor=page["next_cursor"]
    )
    assert [m["message"] for m in rest["items"]] == ["b3", "a4", "b4"]
    assert (
        rest["next_cursor"] is None
        or history(client, bob, "alice", after=seen, cursor=rest["next_cursor"])[
            "items"
        ]
        == []
    )


def test_a_cursor_only_pages_the_way_it_came(client, trio, conversation):
    """A cursor from paging back cannot catch up, nor one from catching up page back:
    each would silently answer a wrong page."""
    alice = trio[0]
    seen = conversation[3]["id"]
    back = history(client, alice, "bob", limit=2)["next_cursor"]
    forward = history(client, alice, "bob", after=seen, limit=2)["next_cursor"]
    assert back and forward
    for params in ({"after": seen, "cursor": back}, {"cursor": forward}):
        response = client.get(
            "/api/chat/messages/bob", query_string=params, headers=alice.headers
        )
        body = assert_error(response, 422, "validation_error")
        assert list(body["errors"]["query"]) == ["cursor"]


def test_after_the_newest_message_is_empty(client, trio, conversation):
    page = history(client, trio[0], "bob", after=conversation[-1]["id"])
    assert page == {"items": [], "next_cursor": None}


def test_after_takes_an_id_in_upper_case(client, trio, conversation):
    """UUIDs compare without regard to case; iOS's UUID().uuidString writes them in
    upper case."""
    page = history(client, trio[1], "alice", after=conversation[7]["id"].upper())
    assert [m["message"] for m in page["items"]] == ["a4", "b4"]


def test_after_a_malformed_id_is_a_422(client, trio, conversation):
    """A bad format is a validation error (API.md §1), not "no such message"."""
    for bad in ("not-a-uuid", conversation[0]["id"] + "0", conversation[0]["id"][:-1]):
        response = client.get(
            "/api/chat/messages/alice",
            query_string={"after": bad},
            headers=trio[1].headers,
        )
        body = assert_error(response, 422, "validation_error")
        assert list(body["errors"]["query"]) == ["after"], bad


def test_after_an_id_from_another_conversation_is_404(client, trio, conversation):
    alice, bob, carol = trio
    foreign = send(client, carol, "alice", "elsewhere")["id"]
    response = client.get(
        "/api/chat/messages/alice", query_string={"after": foreign}, headers=bob.headers
    )
    assert_error(response, 404, "not_found")


def test_after_an_unsent_message_still_catches_up(client, trio, conversation):
    alice, bob, _ = trio
    gone = send(client, alice, "bob", "taken back")["id"]
    newer = send(client, alice, "bob", "still here")["id"]
    response = client.delete(f"/api/chat/messages/{gone}", headers=alice.headers)
    assert response.status_code == 200, response.get_json()
    for who, other in ((bob, "alice"), (alice, "bob")):
        page = history(client, who, other, after=gone)
        assert [m["id"] for m in page["items"]] == [newer]


def test_after_a_message_withheld_by_an_admin_still_catches_up(
    app, client, trio, conversation, admin_headers
):
    alice, bob, _ = trio
    app.extensions["detector"] = FixedScoreDetector(0.97)
    removed = send(client, alice, "bob", "flagged")["id"]
    app.extensions["detector"] = FixedScoreDetector(0.05)
    newer = send(client, alice, "bob", "sorry")["id"]
    flags = client.get("/api/admin/flagged", headers=admin_headers).get_json()
    (flag,) = [f for f in flags["items"] if f["item_id"] == removed]
    response = client.post(
        f"/api/admin/flagged/{flag['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.get_json()
    page = history(client, bob, "alice", after=removed)
    # The withheld anchor is a position only: its content is never shown.
    assert [m["id"] for m in page["items"]] == [newer]


def test_after_a_nonexistent_id_is_404(client, trio, conversation):
    response = client.get(
        "/api/chat/messages/alice",
        query_string={"after": "00000000-0000-0000-0000-000000000000"},
        headers=trio[1].headers,
    )
    assert_error(response, 404, "not_found")


def test_reading_history_does_not_mark_read(client, trio, conversation):
    alice, bob, _ = trio
    history(client, bob, "alice")
    again = history(client, bob, "alice")["items"]
    assert all(m["is_read"] is False for m in again)


def test_unknown_user_is_404(client, trio):
    assert_error(
        client.get("/api/chat/messages/nobody", headers=trio[0].headers),
        404,
        "not_found",
    )


def test_history_requires_a_token(client, trio):
    assert_error(client.get("/api/chat/messages/bob"), 401, "unauthorized")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "x"},
        {"cursor": "!!"},
        {"after": "x" * 40},
    ],
)
def test_bad_query_is_422(client, trio, params):
    response = client.get(
        "/api/chat/messages/bob", query_string=params, headers=trio[0].headers
    )
    assert_error(response, 422, "validation_error")


def test_rest_send_uses_the_pipeline_and_reaches_sockets(client, trio, connect):
    alice, bob, _ = trio
    receiver, own_tab = connect(bob), connect(alice)
    events(receiver), events(own_tab)
    body = send(client, alice, "bob", "  via rest  ")
    assert body["message"] == "via rest" and body["sender"] == "alice"
    assert events(receiver, "receive_message") == [body]
    assert events(own_tab, "receive_message") == [body]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"message": ""},
        {"message": "x" * 2001},
        {"message": 5},
        {"message": "x", "sender": "bob"},
    ],
)
def test_rest_send_validation(client, trio, payload):
    response = client.post(
        "/api/chat/messages/bob", json=payload, headers=trio[0].headers
    )
    assert_error(response, 422, "validation_error")


def test_rest_send_to_self_or_unknown(client, trio):
    alice = trio[0]
    assert_error(
        client.post(
            "/api/chat/messages/alice", json={"message": "x"}, headers=alice.headers
        ),
        422,
        "validation_error",
    )
    assert_error(
        client.post(
            "/api/chat/messages/nobody", json={"message": "x"}, headers=alice.headers
        ),
        404,
        "not_found",
    )


def test_rest_send_idempotent_client_id(client, trio):
    alice = trio[0]
    first = client.post(
        "/api/chat/messages/bob",
        json={"message": "x", "client_id": "r1"},
        headers=alice.headers,
    ).get_json()
    second = client.post(
        "/api/chat/messages/bob",
        json={"message": "y", "client_id": "r1"},
        headers=alice.headers,
    ).get_json()
    assert first == second
