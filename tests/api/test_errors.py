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
