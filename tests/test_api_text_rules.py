"""What counts as text: a message, post, comment, report or appeal reason must hold
something a person can see, and no control characters (API.md §1, §5).

Text made only of white space and invisible format characters (Unicode category Cf:
zero-width spaces and joiners, the word joiner, the byte order mark, direction marks)
reads as empty, so it is refused like empty text; NUL and the other C0 controls but
tab, line feed and carriage return, DEL, and the C1 controls but NEL (next line) are
refused anywhere. A zero-width character inside
visible text is kept as sent: obfuscated insults hide behind them, and the detector
normalises them away itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.models import (
    Appeal,
    AuditLog,
    Comment,
    Message,
    Post,
    User,
    UserReport,
)
from tests.fixtures_realtime import events
from tests.helpers import assert_error
from tests.people import count_rows, send

EMPTY = "Must not be empty."
INVISIBLE = "Must not be empty: it holds only white space and invisible characters."
CONTROL = "Must not hold control characters (only tab and line breaks are allowed)."

INVISIBLE_TEXTS = [
    "\u200b",
    " \u200b\u200c\u200d ",
    "\u2060\ufeff",
    "\n\u200e\t\u200f\r\n",
    "\u00ad\u200b",
    # Letters and marks that draw nothing: Hangul fillers, the braille blank, and
    # combining marks with no letter to sit on.
    "\u3164",
    "\u115f\u1160 \uffa0",
    "\u2800\u2800",
    "\u0301\u0308",
]
CONTROL_TEXTS = [
    "\x00",
    "hello\x00",
    "\x00hello",
    "bell \x07 here",
    "\x1b[31mred",
    "vertical\x0btab",
    "form\x0cfeed",
    "unit\x1fseparator",
    "del\x7fete",
    "\x9b31mred",  # the 8-bit CSI: terminals act on it as on ESC [
    "pad\x80ding",
    "app\x9fcommand",
]
BAD_TEXTS = [(text, INVISIBLE) for text in INVISIBLE_TEXTS] + [
    (text, CONTROL) for text in CONTROL_TEXTS
]
# Kept exactly as sent (after trimming): visible text with invisible characters inside.
GOOD_TEXTS = [
    ("id\u200biot", "id\u200biot"),
    ("  lo\u200cser\u200d  ", "lo\u200cser\u200d"),
    ("\ufeffhello", "\ufeffhello"),
    ("two\nlines\tand a\r\nbreak", "two\nlines\tand a\r\nbreak"),
    ("e\u0301", "e\u0301"),
    ("\u3164hi\u3164", "\u3164hi\u3164"),
    ("next\x85line", "next\x85line"),
    ("caf\u00e9 \u00a0ok", "caf\u00e9 \u00a0ok"),
]


@pytest.fixture
def sockets(trio, connect):
    """alice's and bob's connections, their connect events drained."""
    sio, receiver = connect(trio[0]), connect(trio[1])
    events(sio), events(receiver)
    return sio, receiver


@pytest.mark.parametrize(("text", "why"), BAD_TEXTS)
def test_message_without_visible_text_is_refused_over_rest_and_socket(
    app, client, trio, sockets, text, why
):
    alice, (sio, receiver) = trio[0], sockets
    body = assert_error(
        client.post(
            "/api/chat/messages/bob", json={"message": text}, headers=alice.headers
        ),
        422,
        "validation_error",
    )
    assert body["errors"] == {"json": {"message": [why]}}
    ack = sio.emit("send_message", {"receiver": "bob", "message": text}, callback=True)
    assert ack["ok"] is False and ack["error"] == "validation_error"
    assert ack["errors"] == {"message": [why]}
    assert events(sio) == [
        {
            "name": "error",
            "args": [
                {
                    "error": "validation_error",
                    "message": ack["message"],
                    "event": "send_message",
                }
            ],
            "namespace": "/",
        }
    ]
    assert events(receiver) == []
    assert count_rows(app, Message) == 0


@pytest.mark.parametrize(("text", "kept"), GOOD_TEXTS)
def test_invisible_characters_inside_visible_text_are_kept(
    app, client, trio, sockets, text, kept
):
    alice, (sio, receiver) = trio[0], sockets
    over_socket = sio.emit(
        "send_message", {"receiver": "bob", "message": text}, callback=True
    )
    assert over_socket["ok"] is True, over_socket
    over_rest = send(client, alice, "bob", text)
    assert over_rest["message"] == kept
    assert [m["message"] for m in events(receiver, "receive_message")] == [kept] * 2
    with app.app_context():
        assert db.session.scalars(select(Message.content)).all() == [kept] * 2


@pytest.mark.parametrize(("text", "why"), BAD_TEXTS)
def test_post_and_comment_without_visible_text_are_refused(
    app, client, trio, text, why
):
    alice = trio[0]
    post = client.post("/api/post", json={"content": "A post"}, headers=alice.headers)
    assert post.status_code == 201
    for path in ("/api/post", f"/api/comment/{post.get_json()['id']}"):
        body = assert_error(
            client.post(path, json={"content": text}, headers=alice.headers),
            422,
            "validation_error",
        )
        assert body["errors"] == {"json": {"content": [why]}}
    assert count_rows(app, Post) == 1
    assert count_rows(app, Comment) == 0


@pytest.mark.parametrize(("text", "why"), BAD_TEXTS)
def test_report_and_appeal_reasons_without_visible_text_are_refused(
    app, client, trio, flagging, text, why
):
    alice, bob, _ = trio
    message = send(client, bob, "alice", "you loser")
    strike = client.get("/api/me/strikes", headers=bob.headers).get_json()
    cases = [
        (alice, "/api/reports", {"message_id": message["id"], "reason": text}),
        (
            bob,
            "/api/appeals",
            {"strike_id": strike["strikes"][0]["id"], "reason": text},
        ),
    ]
    for who, path, payload in cases:
        body = assert_error(
            client.post(path, json=payload, headers=who.headers),
            422,
            "validation_error",
        )
        assert body["errors"] == {"json": {"reason": [why]}}
    assert count_rows(app, UserReport) == 0
    assert count_rows(app, Appeal) == 0


def test_empty_text_keeps_its_own_error(client, trio, connect):
    alice = trio[0]
    body = assert_error(
        client.post(
            "/api/chat/messages/bob", json={"message": " \n"}, headers=alice.headers
        ),
        422,
        "validation_error",
    )
    assert body["errors"] == {"json": {"message": [EMPTY]}}
    ack = connect(alice).emit(
        "send_message", {"receiver": "bob", "message": ""}, callback=True
    )
    assert ack["errors"] == {"message": [EMPTY]}


def test_optional_notes_and_reasons_refuse_control_characters(
    app, client, trio, admin_headers
):
    """Admins' reasons and notes are the same kind of text: a control character is
    refused there too, and nothing changes; blank still means none."""
    before = count_rows(app, AuditLog)
    body = assert_error(
        client.post(
            "/api/admin/users/bob/mute",
            json={"minutes": 5, "reason": "spam\x00"},
            headers=admin_headers,
        ),
        422,
        "validation_error",
    )
    assert body["errors"] == {"json": {"reason": [CONTROL]}}
    assert count_rows(app, AuditLog) == before
    with app.app_context():
        assert db.session.get(User, trio[1].id).muted_until is None
