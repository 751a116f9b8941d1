"""Helpers for the people's-controls tests (API.md §9)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cyberscan.extensions import db


def send(client: Any, sender: Any, receiver: str, text: str = "hello") -> dict:
    """Send over REST; the message object."""
    response = client.post(
        f"/api/chat/messages/{receiver}", json={"message": text}, headers=sender.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(client: Any, who: Any, path: str) -> Any:
    response = client.get(path, headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def count_rows(app: Any, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def report_message(client: Any, reporter: Any, message_id: str, reason: str) -> dict:
    """Report a message over REST; the report."""
    response = client.post(
        "/api/reports",
        json={"message_id": message_id, "reason": reason},
        headers=reporter.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()
