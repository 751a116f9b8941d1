"""Every endpoint in the OpenAPI document survives junk: no 500, always the error envelope.

The endpoint list comes from the live OpenAPI document, so endpoints added later are
covered without touching this file.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from cyberscan.services.pagination import encode_cursor
from tests.helpers import assert_error, bearer

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


OUT_OF_RANGE_CURSORS = [10**30, 2**63, -(2**63) - 1, -1]


def test_out_of_range_cursors_are_invalid_on_every_paginated_endpoint(
    app, client, tokens, make_user, caplog
):
    app.config["TESTING"] = False  # a bug would be a logged 500, not an exception
    make_user("other_user")
    headers = bearer(tokens["admin"])
    post = client.post("/api/post", json={"content": "hello"}, headers=headers)
    spec = client.get("/api/openapi.json").get_json()
    paginated = [
        path
        for path, item in spec["paths"].items()
        if any(p["name"] == "cursor" for p in item.get("get", {}).get("parameters", []))
    ]
    assert {
        "/api/chat/messages/{username}",
        "/api/chat/online-users",
        "/api/posts",
        "/api/admin/flagged",
        "/api/admin/users",
        "/api/admin/audit-log",
        "/api/admin/appeals",
        "/api/admin/reports",
    } <= set(paginated)
    failures = []
    with caplog.at_level(logging.WARNING):
        for path in paginated:
            url = path.format(username="other_user", post_id=post.get_json()["id"])
            for position in [*OUT_OF_RANGE_CURSORS, 2**63 - 1, 0]:
                query = f"?limit=5&q=other&cursor={encode_cursor(position)}"
                response = client.get(url + query, headers=headers)
                label = f"{url} p={position}: {response.status_code}"
                if position in OUT_OF_RANGE_CURSORS:
                    body = response.get_json()
                    if response.status_code != 422 or body["errors"] != {
                        "query": {"cursor": ["Not a valid cursor."]}
                    }:
                        failures.append(label)
                    else:
                        assert_error(response, 422, "validation_error")
                elif response.status_code != 200:  # the extremes that fit are fine
                    failures.append(label)
    assert failures == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


# Past a 32-bit INT column, past JSON's exact integers, the last BIGINT, and beyond.
HUGE_IDS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**30]
VALID_BODIES = {
    "/api/comment/{post_id}": {"content": "hello"},
    "/api/admin/flagged/{flag_id}/review": {"action": "dismiss"},
    "/api/admin/appeals/{appeal_id}": {"decision": "accept"},
    "/api/admin/reports/{report_id}/review": {"action": "dismiss"},
}


def test_an_id_no_row_holds_is_not_found_on_every_endpoint(app, client, tokens):
    """However large, an id in the path finds nothing: 404 in the contract's shape,
    on SQLite and MariaDB alike (never the driver's overflow as a 500)."""
    app.config["TESTING"] = False
    with_ids = [
        (method, path)
        for method, path in endpoints(client)
        if re.search(r"\{\w+_id\}", path)
    ]
    assert {path for _, path in with_ids} >= {
        "/api/post/{post_id}",
        "/api/comment/{comment_id}",
        *VALID_BODIES,
    }
    failures = []
    for method, path in with_ids:
        for ident in HUGE_IDS:
            url = re.sub(r"\{\w+_id\}", str(ident), path)
            response = client.open(
                url,
                method=method.upper(),
                headers=bearer(tokens["admin"]),
                json=VALID_BODIES.get(path) if method == "post" else None,
            )
            body = response.get_json(silent=True) or {}
            if (response.status_code, body.get("error")) != (404, "not_found"):
                failures.append(
                    f"{method.upper()} {url}: {response.status_code} {body}"
                )
    assert failures == []
