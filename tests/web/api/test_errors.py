"""Every API error is RFC 9457 problem+json; pages keep HTML errors."""

from __future__ import annotations

from flask.testing import FlaskClient

PROBLEM = "application/problem+json"
Headers = dict[str, str]


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.mimetype == PROBLEM  # type: ignore[attr-defined]
    body = response.json  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def test_unknown_api_route_is_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/vocabulary")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}


def test_malformed_json_is_400(client: FlaskClient, admin: Headers) -> None:
    response = client.put(
        "/api/v1/therapists/t-1",
        data="{oops",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_non_json_body_is_415(client: FlaskClient, admin: Headers) -> None:
    response = client.put(
        "/api/v1/therapists/t-1", data="name=x", headers={**admin, "Content-Type": "text/plain"}
    )
    assert_problem(response, 415)
    response = client.post(
        "/api/v1/therapists/import", data="x", headers={**admin, "Content-Type": "text/csv"}
    )
    assert_problem(response, 415)


def test_too_large_body_is_413(client: FlaskClient, admin: Headers) -> None:
    huge = '{"name": "' + "x" * (2 << 20) + '"}'
    response = client.put(
        "/api/v1/therapists/t-1", data=huge, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 413)


def test_html_pages_keep_html_errors(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert client.get("/").mimetype == "text/html"


def test_hostile_json_is_refused_not_crashed(client: FlaskClient, admin: Headers) -> None:
    json_headers = {**admin, "Content-Type": "application/json"}
    for path, method in (
        ("/api/v1/match", "post"),
        ("/api/v1/therapists/t-1", "put"),
        ("/api/v1/therapists/import", "post"),
    ):
        send = getattr(client, method)
        assert_problem(send(path, data="[" * 100_000, headers=json_headers), 400)
        assert_problem(
            send(path, data='{"capacity": 1' + "0" * 5000 + "}", headers=json_headers),
            400,
        )


def test_unpaired_surrogates_are_named(client: FlaskClient, admin: Headers) -> None:
    from tests.conftest import BASE_PROFILE

    headers = {**admin, "Content-Type": "application/json"}
    body = '{"intake": {"jurisdiction": "US-CA"}, "record": true, "client_ref": "\\ud800"}'
    problem = assert_problem(client.post("/api/v1/match", data=body, headers=headers), 422)
    assert problem["errors"] == {"client_ref": ["Not valid Unicode (unpaired surrogate)."]}
    import json

    profile = json.dumps(dict(BASE_PROFILE, name="@@")).replace("@@", "\\ud800")
    problem = assert_problem(
        client.put("/api/v1/therapists/t-000123", data=profile, headers=headers), 422
    )
    assert "name" in problem["errors"]
    problem = assert_problem(
        client.post("/api/v1/therapists/import", data=f"[{profile}]", headers=headers), 422
    )
    assert "[0].name" in problem["errors"]
    assert client.get("/api/v1/therapists/t-000123", headers=admin).status_code == 404


def test_weight_errors_name_the_weight(client: FlaskClient, admin: Headers) -> None:
    response = client.post(
        "/api/v1/models",
        headers={**admin, "Content-Type": "application/json"},
        data='{"weights": {"modality": 1e400}, "intercept": 0.5}',
    )
    assert set(assert_problem(response, 422)["errors"]) == {"weights.modality"}


def test_distance_needs_a_location(client: FlaskClient, admin: Headers) -> None:
    body = {"intake": {"jurisdiction": "US-CA", "formats": ["in_person"], "max_distance_km": 10}}
    problem = assert_problem(client.post("/api/v1/match", json=body, headers=admin), 422)
    assert "intake.location" in problem["errors"]


def test_nul_characters_are_refused_not_stored(client: FlaskClient, admin: Headers) -> None:
    """PostgreSQL cannot store NUL: refused as a bad field (or no such path), never a 5xx."""
    from tests.conftest import BASE_PROFILE

    profile = dict(BASE_PROFILE, name="Ana\x00")
    problem = assert_problem(
        client.put("/api/v1/therapists/t-000123", json=profile, headers=admin), 422
    )
    assert set(problem["errors"]) == {"name"}
    problem = assert_problem(
        client.post("/api/v1/therapists/import", json=[profile], headers=admin), 422
    )
    assert set(problem["errors"]) == {"[0].name"}
    for url, body, field in (
        (
            "/api/v1/match",
            {"intake": {"jurisdiction": "US-CA"}, "client_ref": "c\x00"},
            "client_ref",
        ),
        ("/api/v1/referrals", {"match_id": "m\x00", "therapist_id": "t-1"}, "match_id"),
        ("/api/v1/models", {"weights": {}, "intercept": 0.5, "note": "\x00"}, "note"),
    ):
        problem = assert_problem(client.post(url, json=body, headers=admin), 422)
        assert set(problem["errors"]) == {field}, url
    for method, url, field in (
        ("GET", "/api/v1/therapists/t%00", "therapist_id"),
        ("DELETE", "/api/v1/therapists/t%00", "therapist_id"),
        ("GET", "/api/v1/referrals/r%00", "referral_id"),
        ("POST", "/api/v1/referrals/r%00/alliance", "referral_id"),
        ("DELETE", "/api/v1/clients/c%00", "client_ref"),
        ("GET", "/api/v1/therapists?jurisdiction=US-CA%00", "jurisdiction"),
    ):
        problem = assert_problem(client.open(url, method=method, headers=admin), 422)
        assert set(problem["errors"]) == {field}, url
