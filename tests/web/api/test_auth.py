"""API keys: 401 without a valid key, 403 without the scope, admin implies all."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.storage.database import Database
from matcher.storage.tables import ApiKey

MakeKey = Callable[..., dict[str, str]]


def test_missing_key_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/therapists")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_key_is_401(client: FlaskClient) -> None:
    for header in ("Bearer mk_not-a-real-key", "Basic abc", "Bearer", "mk_x"):
        response = client.get("/api/v1/therapists", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_missing_scope_is_403(client: FlaskClient, make_key: MakeKey) -> None:
    response = client.get("/api/v1/therapists", headers=make_key("match"))
    assert response.status_code == 403
    assert "profiles" in response.json["detail"]


def test_scope_and_admin_allow(client: FlaskClient, make_key: MakeKey) -> None:
    assert client.get("/api/v1/therapists", headers=make_key("profiles")).status_code == 200
    assert client.get("/api/v1/therapists", headers=make_key("admin")).status_code == 200


def test_auth_comes_before_validation(client: FlaskClient) -> None:
    assert client.put("/api/v1/therapists/t-1", json={}).status_code == 401


def test_keys_are_stored_hashed(db: Database, make_key: MakeKey) -> None:
    secret = make_key("match")["Authorization"].split()[1]
    with db.session() as session:
        stored = session.execute(select(ApiKey)).scalars().all()
    assert len(stored) == 1
    assert secret not in (stored[0].digest, stored[0].id, stored[0].name)
    assert len(stored[0].digest) == 64


def test_public_endpoints_need_no_key(client: FlaskClient) -> None:
    for path in (
        "/api/v1/vocabulary",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/healthz",
        "/readyz",
    ):
        assert client.get(path).status_code == 200, path
