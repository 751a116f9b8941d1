"""GET /api/health and the OpenAPI document."""

from __future__ import annotations

import redis

from config import TestingConfig
from cyberscan import create_app
from tests.helpers import assert_error


def test_health_reports_database_and_model(client, app):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["model"]["version"].startswith("cyberscan-clf-v")


def test_health_names_the_database_when_it_is_down(tmp_path):
    app = create_app(
        TestingConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'no' / 'db.sqlite'}"
    )
    body = assert_error(app.test_client().get("/api/health"), 503, "unavailable")
    assert body["database"] == "unavailable"
    assert "database" in body["message"]


def test_health_checks_redis_when_configured(client, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert client.get("/api/health").get_json()["redis"] == "ok"


def test_health_probes_reuse_one_redis_connection(client, app):
    """A load balancer's probes: 30 of them open one connection to Redis, not 30."""
    url = "redis://127.0.0.1:6379/0"
    app.config["REDIS_URL"] = url
    server = redis.Redis.from_url(url)
    try:
        before = server.info("stats")["total_connections_received"]
        for _ in range(30):
            assert client.get("/api/health").get_json()["redis"] == "ok"
        opened = server.info("stats")["total_connections_received"] - before
    finally:
        server.close()
    assert opened < 10  # other tests' connections may land in between; 30 before


def test_health_names_redis_when_it_is_down(client, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    body = assert_error(client.get("/api/health"), 503, "unavailable")
    assert body["redis"] == "unavailable"
    assert body["database"] == "ok"


def test_openapi_document_lists_the_auth_endpoints(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in (
        "/api/register",
        "/api/login",
        "/api/token/refresh",
        "/api/logout",
        "/api/me",
    ):
        assert path in spec["paths"], path
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert {"code", "status", "error", "message", "errors"} <= error.keys()
