"""Every response carries the security headers; everything but vendored assets says no-store."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from matcher.services import users
from matcher.web.headers import CACHEABLE_PREFIXES
from tests.web.coordinator.conftest import PASSWORD, token

Headers = dict[str, str]


def assert_secured(response: TestResponse, where: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, where
    assert "object-src 'none'" in policy, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "no-referrer", where


def _signed_in_admin(app: Flask) -> FlaskClient:
    with app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="hdr@clinic.test", role="admin", password=PASSWORD)
    client = app.test_client()
    form = {"email": "hdr@clinic.test", "password": PASSWORD, "csrf_token": token(client)}
    assert client.post("/login", data=form).status_code == 302
    return client


def test_every_page_and_endpoint_without_arguments(demo_app: Flask, demo_admin: Headers) -> None:
    """Walk every GET route that needs no path argument, signed in and with an admin key."""
    client = _signed_in_admin(demo_app)
    walked = []
    for rule in demo_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.rule == "/logout":
            continue
        response = client.get(rule.rule, headers=demo_admin)
        assert response.status_code < 500, rule.rule
        assert_secured(response, rule.rule)
        assert response.headers.get("Cache-Control") == "no-store", rule.rule
        walked.append(rule.rule)
    assert {"/coordinator/", "/admin/", "/api/v1/therapists", "/api/v1/docs", "/login"} <= set(
        walked
    )
    assets = client.get("/api/v1/docs/assets/swagger-ui.css", buffered=True)
    assets.close()
    assert_secured(assets, "docs assets")
    assert assets.headers.get("Cache-Control") != "no-store"
    assert any(assets.request.path.startswith(p) for p in CACHEABLE_PREFIXES)


def test_client_information_is_never_cached(
    client: FlaskClient, admin: Headers, make_profile: object
) -> None:
    """Matches, referrals, a client's erasure and the errors about them all say no-store."""
    profile = make_profile(id="t-hdr", capacity=3)  # type: ignore[operator]
    assert client.put("/api/v1/therapists/t-hdr", json=profile, headers=admin).status_code == 201
    shown = client.post(
        "/api/v1/match",
        json={"intake": {"jurisdiction": "US-CA"}, "record": True, "client_ref": "c-hdr"},
        headers=admin,
    )
    referral = client.post(
        "/api/v1/referrals",
        json={"match_id": shown.json["match_id"], "therapist_id": "t-hdr"},
        headers=admin,
    )
    responses = {
        "match": shown,
        "referral": referral,
        "referral read": client.get(f"/api/v1/referrals/{referral.json['id']}", headers=admin),
        "erase": client.delete("/api/v1/clients/c-hdr", headers=admin),
        "422": client.post("/api/v1/match", json={"intake": {}}, headers=admin),
        "401": client.post("/api/v1/match", json={}),
        "404": client.get("/api/v1/referrals/r-none", headers=admin),
    }
    assert [r.status_code for r in responses.values()] == [200, 201, 200, 204, 422, 401, 404]
    for name, response in responses.items():
        assert_secured(response, name)
        assert response.headers["Cache-Control"] == "no-store", name


def test_a_nonce_only_where_a_page_asks_for_one(client: FlaskClient) -> None:
    """The docs page's inline script carries a fresh nonce the policy names; other responses get
    the same headers as each other, with no nonce in the policy."""
    first, second = client.get("/api/v1/docs"), client.get("/api/v1/docs")
    nonces = []
    for page in (first, second):
        assert page.status_code == 200
        policy = page.headers["Content-Security-Policy"]
        nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
        assert f'nonce="{nonce}"' in page.get_data(as_text=True)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    plain = [client.get("/healthz"), client.get("/api/v1/openapi.json"), client.get("/healthz")]
    for response in plain:
        assert_secured(response, response.request.path)
        assert "nonce" not in response.headers["Content-Security-Policy"]
    secured = (
        "Content-Security-Policy",
        "X-Frame-Options",
        "Referrer-Policy",
        "Permissions-Policy",
    )
    assert len({tuple(r.headers.get(h) for h in secured) for r in plain}) == 1
    assert plain[0].headers["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"
