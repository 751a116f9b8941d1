"""The real socket.io-client 4.x against a live server, under eventlet and gevent."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.e2e


def check_chat(result: dict, alice, bob, carol) -> None:
    assert alice.username in result["alice_online_users"]
    assert set(result["bob_online_users"]) >= {
        alice.username,
        bob.username,
        carol.username,
    }
    assert result["typing_ack"]["ok"] is True
    assert result["typing"] == {"sender": bob.username, "is_typing": True}
    send_ack = result["send_ack"]
    assert send_ack["ok"] is True and send_ack["data"]["status"] == "delivered"
    assert send_ack["data"] == result["message_sent"]
    received = result["received"]
    assert received["message"] == "hello from node"
    assert received["sender"] == alice.username and received["receiver"] == bob.username
    assert received["id"] == send_ack["data"]["id"]
    assert result["retry_ack"] == send_ack  # same client_id: the first answer
    assert result["read_ack"]["data"] == {"count": 1, "message_ids": [received["id"]]}
    assert result["messages_read"] == {
        "reader": bob.username,
        "message_ids": [received["id"]],
    }
    assert (
        result["spoof_ack"]["ok"] is False
        and result["spoof_ack"]["error"] == "forbidden"
    )
    assert result["spoof_error"]["event"] == "send_message"
    assert [a["error"] for a in result["bad_acks"]] == ["validation_error"] * 6
    assert result["bad_typing"]["error"] == "validation_error"
    assert result["bad_read"]["error"] == "validation_error"
    assert result["unknown"]["error"] == "not_found"
    assert result["error_events"] == 10
    assert result["alice_connected"] is True
    assert result["user_left"] == bob.username
    assert result["carol_events"] == []


def chat(node, cluster, servers=(0, 0, 0), **options) -> tuple:
    """Fresh alice, bob and carol, on processes `servers`, run chat.mjs: check_chat.

    `options` go into the script's input (e.g. `transports`); answers the accounts.
    """
    alice, bob, carol = cluster.account("a"), cluster.account("b"), cluster.account("c")
    on_alice, on_bob, on_carol = servers
    # Presence is private (API.md §9): bob is alice's and carol's contact.
    for friend in (alice, carol):
        status, _ = cluster.first.request(
            "POST",
            f"/api/chat/messages/{friend.username}",
            {"message": "hi"},
            bob.token,
        )
        assert status == 201
    result = node(
        "chat.mjs",
        {
            "alice": cluster.who(alice, on_alice),
            "bob": cluster.who(bob, on_bob),
            "carol": cluster.who(carol, on_carol),
            **options,
        },
    )
    check_chat(result, alice, bob, carol)
    return alice, bob, carol


def test_two_users_chat_over_websocket(single, node):
    alice, bob, _ = chat(node, single)
    history = single.first.get(f"/api/chat/messages/{alice.username}", bob.token)
    assert [m["message"] for m in history["items"]] == ["hi", "hello from node"]
    assert history["items"][-1]["is_read"] is True


def test_two_users_chat_over_polling(single, node):
    chat(node, single, transports=["polling"])


def test_a_retry_without_callbacks_gets_message_sent_and_ids_ignore_case(single, node):
    alice, bob = single.account("a"), single.account("b")
    result = node("retry.mjs", {"alice": single.who(alice), "bob": single.who(bob)})
    first = result["first"]
    assert first["client_id"] == "outbox-1"
    assert result["retry"] == first
    assert result["read_ack"]["data"] == {"count": 1, "message_ids": [first["id"]]}
    assert result["messages_read"] == {
        "reader": bob.username,
        "message_ids": [first["id"]],
    }
    assert result["bob_received"] == 0  # it was stored before bob connected
    history = single.first.get(f"/api/chat/messages/{alice.username}", bob.token)
    assert [m["id"] for m in history["items"]] == [first["id"]]


def in_order(node, cluster, count: int = 20) -> None:
    """order.mjs: `count` messages sent back to back on one connection, without
    waiting for acks (an app flushing its outbox), are stored and delivered in the
    order they were sent; they were scrambled while each event ran on its own."""
    alice, bob = cluster.account("a"), cluster.account("b")
    result = node(
        "order.mjs",
        {"alice": cluster.who(alice), "bob": cluster.who(bob), "count": count},
    )
    sent = [f"good morning number {k}" for k in range(count)]
    assert result["acked"] == [f"order-{k}" for k in range(count)]
    assert result["received"] == sent
    history = cluster.first.get(
        f"/api/chat/messages/{alice.username}?limit={count}", bob.token
    )
    assert [m["message"] for m in history["items"]] == sent


def test_messages_sent_back_to_back_keep_their_order(single, node):
    in_order(node, single)


def refused(node, cluster, **payload) -> dict:
    return node("refused.mjs", {"url": cluster.first.url, **payload})


def test_bad_tokens_are_refused_with_error_data(single, node):
    alice = single.account("a")
    assert refused(node, single, auth={"token": alice.token}) == {"connected": True}
    for auth in [None, {}, {"token": "garbage"}, {"token": alice.token + "x"}]:
        answer = refused(node, single, auth=auth)
        assert answer["connected"] is False
        assert answer["data"]["error"] == "unauthorized"
        assert answer["data"]["message"]


def test_token_in_query_or_header_is_accepted(single, node):
    alice = single.account("a")
    assert refused(node, single, query={"token": alice.token}) == {"connected": True}
    assert refused(
        node, single, headers={"Authorization": f"Bearer {alice.token}"}
    ) == {"connected": True}


def test_username_without_a_token_is_refused(single, node):
    alice = single.account("a")
    answer = refused(
        node,
        single,
        auth={"username": alice.username},
        query={"username": alice.username},
    )
    assert answer["connected"] is False and answer["data"]["error"] == "unauthorized"


def test_expired_and_revoked_tokens_are_refused(single, node):
    from flask_jwt_extended import create_access_token

    from config import TestingConfig
    from cyberscan import create_app

    alice = single.account("a")
    app = create_app(
        TestingConfig,
        DATABASE_URL=single.database_url,
        JWT_SECRET_KEY=single.secrets["JWT_SECRET_KEY"],
    )
    with app.app_context():
        expired = create_access_token(
            str(alice.id), expires_delta=timedelta(seconds=-30)
        )
    answer = refused(node, single, auth={"token": expired})
    assert answer["connected"] is False and answer["data"]["error"] == "unauthorized"

    status, _ = single.first.request("POST", "/api/logout", token=alice.token)
    assert status == 200
    answer = refused(node, single, auth={"token": alice.token})
    assert answer["connected"] is False and answer["data"]["error"] == "unauthorized"


def test_blocked_account_is_refused_as_blocked(single, node):
    alice = single.account("a")
    single.sql(
        "UPDATE users SET is_blocked = :yes, blocked_reason = :why WHERE id = :id",
        yes=True,
        why="Threats in the group chat",
        id=alice.id,
    )
    answer = refused(node, single, auth={"token": alice.token})
    # With the block's reason, so a client shows why without logging in again.
    assert answer == {
        "connected": False,
        "message": "blocked",
        "data": {
            "error": "blocked",
            "message": answer["data"]["message"],
            "reason": "Threats in the group chat",
        },
    }


@pytest.fixture(scope="module")
def threaded(launch):
    """The same code under plain threads (Werkzeug's server, simple-websocket)."""
    cluster = launch(1, async_mode="threading")
    yield cluster
    cluster.stop()


def test_chat_under_threading_mode(threaded, node):
    chat(node, threaded)


def test_messages_keep_their_order_under_threading_mode(threaded, node):
    in_order(node, threaded)


@pytest.fixture(scope="module")
def strict(launch):
    """Every message flagged, one strike blocks: the block path with the real classifier."""
    cluster = launch(1, BULLYING_THRESHOLD="0.000001", MAX_BULLYING_COUNT="1")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def strict_pair(launch):
    """The same, on two processes sharing Redis: the close travels the queue."""
    cluster = launch(
        2, redis=True, BULLYING_THRESHOLD="0.000001", MAX_BULLYING_COUNT="1"
    )
    yield cluster
    cluster.stop()


@pytest.mark.parametrize("cluster_name", ["strict", "strict_pair"])
def test_send_that_blocks_is_acknowledged_then_closed(cluster_name, request, node):
    strict = request.getfixturevalue(cluster_name)
    alice, bob = strict.account("a"), strict.account("b")
    result = node("blocked.mjs", {"alice": strict.who(alice), "bob": strict.who(bob)})
    assert result["ack"]["ok"] is True
    assert result["ack"]["data"]["is_bullying"] is True
    assert result["account_blocked"]["reason"]
    assert result["disconnect_reason"] == "io server disconnect"
    # docs/realtime.md: the message that reaches the limit is stored and acknowledged
    # first, then `account_blocked` arrives, then the server closes the connection.
    order = result["order"]
    assert (
        order.index("message_sent")
        < order.index("ack")
        < order.index("account_blocked")
    ), order
    assert result["received"]["id"] == result["ack"]["data"]["id"]
    assert result["reconnect"]["connected"] is False
    assert result["reconnect"]["data"]["error"] == "blocked"
