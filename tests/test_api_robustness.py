"""Every endpoint in the OpenAPI document survives junk: no 500, always the error envelope.

The endpoint list comes from the live OpenAPI document, so endpoints added later are
covered without touching this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import bearer

PATH_VALUES = [
    "1",
    "999999",
    "nobody",
    "x%27%3B%20DROP%20TABLE%20users%3B--",
    "%F0%9F%98%80",
    "-1",
]
BODIES: list[Any] = [
    None,
    {},
    [],
    "text",
    {"unexpected": {"nested": [1, {"deep": None}]}},
    {"content": None, "message": 5, "receiver": ["x"], "minutes": "ten"},
    {"content": "x" * 10_000, "reason": "<script>alert(1)</script>", "minutes": -5},
    {"content": "' OR 1=1 --", "reset_count": "maybe", "action": "explode"},
]
QUERIES = [
    "",
    "?limit=0",
    "?limit=abc",
    "?cursor=not-a-cursor",
    "?limit=101&cursor=%00",
    "?status=weird&hours=-1",
]


def endpoints(client: Any) -> list[tuple[str, str]]:
    spec = client.get("/api/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method, path))
    return sorted(found)


def assert_not_a_crash(response: Any, label: str) -> None:
    assert response.status_code < 500 or response.status_code == 503, label
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert isinstance(body, dict), label
        assert {"code", "status", "error", "message"} <= body.keys(), label
        assert "Traceback" not in response.get_data(as_text=True), label


@pytest.fixture
def tokens(app: Any, make_user: Any, login: Any) -> dict[str, str]:
    user = make_user("fuzz_user")
    admin = make_user("fuzz_admin", is_admin=True)
    return {"user": login(user)["access_token"], "admin": login(admin)["access_token"]}


def test_the_openapi_document_lists_endpoints(client):
    assert len(endpoints(client)) >= 5


def test_no_endpoint_answers_500_to_junk(app, client, tokens):
    app.config["TESTING"] = False  # let Flask turn a bug into a 500 instead of raising
    failures = []
    for method, path in endpoints(client):
        if path == "/api/logout":
            continue  # it would revoke the tokens the rest of the run uses; tested on its own
        for index, value in enumerate(PATH_VALUES):
            url = re.sub(r"\{[^}]+\}", value, path)
            for who, token in (
                ("anon", None),
                ("user", tokens["user"]),
                ("admin", tokens["admin"]),
            ):
                headers = bearer(token) if token else {}
                with_body = method in {"post", "put", "patch"} and token is not None
                for body in BODIES if with_body else [None]:
                    query = QUERIES[index % len(QUERIES)]
                    response = client.open(
                        url + query, method=method.upper(), headers=headers, json=body
                    )
                    label = (
                        f"{method.upper()} {url}{query} as {who} body={str(body)[:60]}"
                    )
                    try:
                        assert_not_a_crash(response, label)
                    except AssertionError:
                        failures.append(f"{response.status_code} {label}")
    assert failures == []
