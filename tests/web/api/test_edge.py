"""Input a database cannot store is refused at the edge; lost races on a write are 409, not 500."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.browser import live_server
from tests.web.api.test_errors import assert_problem

Headers = dict[str, str]


def test_a_key_with_a_nul_or_control_character_is_named(
    client: FlaskClient, admin: Headers
) -> None:
    for secret in ("abc\x00def", "abc\x01def"):
        headers = {"Authorization": f"Bearer {secret}"}
        problem = assert_problem(client.get("/api/v1/therapists", headers=headers), 422)
        assert set(problem["errors"]) == {"Authorization"}


def test_unpaired_surrogates_in_nested_fields_are_named(
    client: FlaskClient, admin: Headers
) -> None:
    body = '{"weights": {"modality": 1.0}, "intercept": 0.5, "note": "ok \\udc80 not"}'
    problem = assert_problem(
        client.post(
            "/api/v1/models", data=body, headers={**admin, "Content-Type": "application/json"}
        ),
        422,
    )
    assert set(problem["errors"]) == {"note"}
    # Raw bytes of a surrogate (ED A0 80) are not UTF-8 at all: a malformed body.
    raw = b'{"match_id": "m-\xed\xa0\x80", "therapist_id": "t-1"}'
    assert_problem(
        client.post(
            "/api/v1/referrals", data=raw, headers={**admin, "Content-Type": "application/json"}
        ),
        400,
    )


def _post(url: str, body: dict[str, Any], headers: Headers) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_the_same_referral_twenty_times_at_once_is_made_once(
    app: Flask,
    client: FlaskClient,
    admin: Headers,
    make_profile: Callable[..., dict[str, Any]],
) -> None:
    """The race that gave 500s on PostgreSQL: one 201, the rest 409 problem+json, one slot."""
    profile = make_profile(id="t-race", capacity=30)
    assert client.put("/api/v1/therapists/t-race", json=profile, headers=admin).status_code == 201
    shown = client.post(
        "/api/v1/match",
        json={"intake": {"jurisdiction": "US-CA"}, "record": True, "client_ref": "c-race"},
        headers=admin,
    ).json
    body = {"match_id": shown["match_id"], "therapist_id": "t-race"}
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(20)
    with live_server(app) as base:

        def refer() -> None:
            start.wait()
            answers.append(_post(base + "/api/v1/referrals", body, admin))

        threads = [threading.Thread(target=refer) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    statuses = Counter(status for status, _ in answers)
    assert statuses[201] == 1 and statuses[409] == 19, statuses
    assert all(body["status"] == 409 for status, body in answers if status == 409)
    after = client.get("/api/v1/therapists/t-race", headers=admin).json
    assert after["capacity"] == 29
