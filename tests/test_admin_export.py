"""CSV exports: streamed, spreadsheet-safe, never a password hash."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from sqlalchemy import insert

from cyberscan.extensions import db
from cyberscan.models import Message, User, conversation_key, utcnow
from cyberscan.services.exports import csv_cell
from tests.helpers import assert_error

BOM = "\ufeff"


def rows_of(response):
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


def test_users_export_is_an_attachment_without_password_hashes(
    client, app, make_user, admin_headers
):
    bob = make_user("bob")
    response = client.get("/api/admin/export/users.csv", headers=admin_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="users-'
    )
    rows = rows_of(response)
    assert rows[0] == [
        "id",
        "username",
        "email",
        "created_at",
        "is_admin",
        "is_blocked",
        "bullying_count",
        "muted_until",
    ]
    assert [r[1] for r in rows[1:]] == ["root_admin", "bob"]
    assert rows[2][0] == str(bob.id)
    assert rows[2][2] == "bob@example.com"
    assert rows[2][3].endswith("Z")
    assert rows[2][4:] == ["false", "false", "0", ""]
    assert rows[1][4] == "true"
    with app.app_context():
        hashes = [u.password_hash for u in db.session.query(User)]
    text = response.get_data(as_text=True)
    assert "argon2" not in text and not any(h in text for h in hashes)
    assert "password" not in text


def test_messages_export_has_the_verdicts(client, app, make_user, admin_headers):
    alice, bob = make_user("alice"), make_user("bob")
    with app.app_context():
        message = Message(
            sender_id=alice.id,
            receiver_id=bob.id,
            conversation_key=conversation_key(alice.id, bob.id),
            content='Hi, "Bob"\nsecond line ✓ 漢字',
            is_bullying=True,
            bullying_probability=0.875,
            model_version="cyberscan-clf-v1",
            status="withheld",
        )
        db.session.add(message)
        db.session.commit()
        message_id, created = message.id, message.created_at
    rows = rows_of(client.get("/api/admin/export/messages.csv", headers=admin_headers))
    assert rows[0] == [
        "id",
        "timestamp",
        "sender",
        "receiver",
        "message",
        "is_bullying",
        "bullying_probability",
        "model_version",
        "status",
        "is_read",
    ]
    assert rows[1] == [
        message_id,
        created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
        "alice",
        "bob",
        'Hi, "Bob"\nsecond line ✓ 漢字',
        "true",
        "0.875",
        "cyberscan-clf-v1",
        "withheld",
        "false",
    ]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised_in_the_export(
    client, app, make_user, admin_headers, text, cell
):
    alice, bob = make_user("alice"), make_user("bob")
    with app.app_context():
        db.session.add(
            Message(
                sender_id=alice.id,
                receiver_id=bob.id,
                conversation_key=conversation_key(alice.id, bob.id),
                content=text,
            )
        )
        db.session.commit()
    rows = rows_of(client.get("/api/admin/export/messages.csv", headers=admin_headers))
    assert rows[1][4] == cell


def test_formula_in_an_email_is_neutralised(client, make_user, admin_headers):
    make_user("eve", email="=cmd|'/c calc'!A0@example.com")
    make_user("-dash")
    rows = rows_of(client.get("/api/admin/export/users.csv", headers=admin_headers))
    assert rows[1 + 1][2] == "'=cmd|'/c calc'!A0@example.com"
    assert rows[3][1] == "'-dash"


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (True, "true"), (False, "false"), (3, "3"), (0.5, "0.5")],
)
def test_csv_cells_for_plain_values(value, cell):
    assert csv_cell(value) == cell


def test_exports_of_empty_tables_have_a_header_only(client, admin_headers):
    rows = rows_of(client.get("/api/admin/export/messages.csv", headers=admin_headers))
    assert len(rows) == 1


def test_export_needs_an_admin(client, make_user, auth_headers):
    headers = auth_headers(make_user("bob"))
    assert_error(
        client.get("/api/admin/export/messages.csv", headers=headers), 403, "forbidden"
    )
    assert_error(client.get("/api/admin/export/users.csv"), 401, "unauthorized")


ROWS = 100_000
CHUNK = 10_000


def test_100k_message_export_streams_in_constant_memory(
    client, app, make_user, admin_headers
):
    alice, bob = make_user("alice"), make_user("bob")
    key = conversation_key(alice.id, bob.id)
    now = utcnow()
    with app.app_context():
        table = Message.__table__
        for start in range(0, ROWS, CHUNK):
            db.session.execute(
                insert(table),
                [
                    {
                        "id": f"00000000-0000-4000-8000-{n:012d}",
                        "sender_id": alice.id,
                        "receiver_id": bob.id,
                        "conversation_key": key,
                        "content": f"message number {n}, padded to look like chat text",
                        "created_at": now,
                        "is_read": False,
                        "status": "delivered",
                        "bullying_probability": 0.125,
                        "is_bullying": n % 7 == 0,
                        "model_version": "cyberscan-clf-v1",
                        "terms": [],
                    }
                    for n in range(start, start + CHUNK)
                ],
            )
        db.session.commit()

    tracemalloc.start()
    try:
        response = client.get(
            "/api/admin/export/messages.csv", headers=admin_headers, buffered=False
        )
        assert response.status_code == 200
        chunks = lines = size = 0
        first_chunk_peak = None
        for chunk in response.response:
            chunks += 1
            size += len(chunk)
            lines += chunk.count(b"\r\n")
            if chunks == 2:  # the header, then the first batch of rows
                first_chunk_peak = tracemalloc.get_traced_memory()[1]
        response.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert lines == ROWS + 1
    assert size > 15_000_000
    # Rows arrive batch by batch: many chunks, the first long before the last.
    assert chunks > 50
    assert first_chunk_peak is not None
    # The CSV is ~17 MB and the rows as Python objects would be more (measured peak
    # ~3 MB, most of it there before the first row); memory must not grow with rows.
    assert peak < size / 3, (peak, size)
    assert peak - first_chunk_peak < size / 8, (peak, first_chunk_peak, size)
