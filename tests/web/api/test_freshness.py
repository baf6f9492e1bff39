"""Availability that stays true: confirmations, stale flags in matches, declines, signed links."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.config import Settings
from matcher.storage import counters
from matcher.storage.database import Database
from matcher.storage.tables import Therapist
from tests.web.coordinator.conftest import token

Headers = dict[str, str]
Profile = Callable[..., dict[str, Any]]


def put(client: FlaskClient, headers: Headers, profile: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"/api/v1/therapists/{profile['id']}", json=profile, headers=headers)
    assert response.status_code in (200, 201), response.json
    return response.json  # type: ignore[no-any-return]


def age(db: Database, therapist_id: str, days: float | None) -> None:
    """Pretend the therapist last confirmed ``days`` ago (None: never)."""
    with db.transaction() as session:
        row = session.get(Therapist, therapist_id)
        assert row is not None
        row.accepting_confirmed_at = (
            None if days is None else datetime.now(UTC) - timedelta(days=days)
        )
        row.revision = counters.bump(session, name=counters.DIRECTORY)
        session.add(row)


def matched(client: FlaskClient, headers: Headers, **body: Any) -> dict[str, Any]:
    request = {"intake": {"jurisdiction": "US-CA"}, "limit": 5, **body}
    response = client.post("/api/v1/match", json=request, headers=headers)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["therapist_id"]: r for r in answer["results"]}


def stale_reasons(result: dict[str, Any]) -> list[str]:
    return [r for r in result["reasons"] if "confirm" in r]


def test_a_write_saying_accepting_confirms_and_the_field_is_read_only(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    before = datetime.now(UTC)
    shown = put(client, admin, make_profile())
    assert datetime.fromisoformat(shown["accepting_confirmed_at"]) >= before - timedelta(seconds=1)
    refused = client.put(
        "/api/v1/therapists/t-000123",
        json=make_profile(accepting_confirmed_at="2020-01-01T00:00:00Z"),
        headers=admin,
    )
    assert refused.status_code == 422
    assert "accepting_confirmed_at" in refused.json["errors"]


def test_a_stale_therapist_is_flagged_until_confirmed(
    client: FlaskClient, admin: Headers, make_profile: Profile, db: Database
) -> None:
    put(client, admin, make_profile(id="t-fresh"))
    put(client, admin, make_profile(id="t-stale"))
    age(db, "t-stale", 60)
    results = by_id(matched(client, admin))
    assert stale_reasons(results["t-fresh"]) == []
    assert results["t-fresh"]["accepting_confirmed_at"] is not None
    [reason] = stale_reasons(results["t-stale"])
    assert "over 45 days ago" in reason
    confirmed = client.post("/api/v1/therapists/t-stale/confirm", headers=admin)
    assert confirmed.status_code == 200
    assert confirmed.json["accepting_new_clients"] is True
    assert stale_reasons(by_id(matched(client, admin))["t-stale"]) == []


def test_confirm_needs_the_profiles_scope_and_a_known_therapist(
    client: FlaskClient, make_key: Callable[..., Headers]
) -> None:
    assert (
        client.post("/api/v1/therapists/t-x/confirm", headers=make_key("match")).status_code == 403
    )
    missing = client.post("/api/v1/therapists/t-x/confirm", headers=make_key("profiles"))
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"


@pytest.mark.parametrize("policy", ["rank_after", "exclude"])
def test_policy_ranks_stale_after_fresh_or_excludes_them(
    policy: str,
    db_url: str,
    make_app: Callable[..., Flask],
    make_profile: Profile,
) -> None:
    app = make_app(Settings(database_url=db_url, stale_policy=policy))
    client = app.test_client()
    db: Database = app.extensions["matcher"].db
    from matcher.services.keys import create_key

    with db.transaction() as session:
        _, secret = create_key(session, name="t", scopes=("admin",))
    headers = {"Authorization": f"Bearer {secret}"}
    # The stale one speaks the client's language: without the policy it would rank first.
    put(client, headers, make_profile(id="t-a", languages=["en"]))
    put(client, headers, make_profile(id="t-b", languages=["en", "vi"]))
    age(db, "t-b", None)
    answer = matched(client, headers, intake={"jurisdiction": "US-CA", "languages": ["vi"]})
    ids = [r["therapist_id"] for r in answer["results"]]
    if policy == "rank_after":
        assert ids == ["t-a", "t-b"]
        assert stale_reasons(answer["results"][1])
    else:
        assert ids == ["t-a"]
        assert answer["excluded"]["stale"] == 1
        assert answer["eligible"] == 1


def test_a_no_space_decline_makes_the_therapist_stale(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile(id="t-1", capacity=2))
    shown = matched(client, admin, record=True, client_ref="c-1")
    referral = client.post(
        "/api/v1/referrals",
        json={"match_id": shown["match_id"], "therapist_id": "t-1"},
        headers=admin,
    ).json
    declined = client.post(
        f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "no_space"}, headers=admin
    )
    assert declined.status_code == 200, declined.json
    assert declined.json["decline_reason"] == "no_space"
    profile = client.get("/api/v1/therapists/t-1", headers=admin).json
    assert profile["accepting_confirmed_at"] is None
    assert profile["capacity"] == 1  # the slot stays taken: there was no space
    [reason] = stale_reasons(by_id(matched(client, admin))["t-1"])
    assert "Has not confirmed" in reason
    again = client.post(
        f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "other"}, headers=admin
    )
    assert again.status_code == 409


def test_another_decline_gives_the_slot_back(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile(id="t-1", capacity=2))
    shown = matched(client, admin, record=True, client_ref="c-1")
    referral = client.post(
        "/api/v1/referrals",
        json={"match_id": shown["match_id"], "therapist_id": "t-1"},
        headers=admin,
    ).json
    client.post(
        f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "not_a_fit"}, headers=admin
    )
    profile = client.get("/api/v1/therapists/t-1", headers=admin).json
    assert profile["capacity"] == 2
    assert profile["accepting_confirmed_at"] is not None


def links(client: FlaskClient, headers: Headers, therapist_id: str) -> dict[str, str]:
    response = client.get(f"/api/v1/therapists/{therapist_id}/availability-links", headers=headers)
    assert response.status_code == 200, response.json
    return {
        k: urlsplit(v).path
        for k, v in response.json.items()
        if k != "expires_at" and "://" in str(v)
    }


def test_yes_link_confirms_once_and_a_scanner_cannot_say_no(
    client: FlaskClient, admin: Headers, make_profile: Profile, db: Database
) -> None:
    put(client, admin, make_profile(id="t-1"))
    age(db, "t-1", 90)
    link = links(client, admin, "t-1")
    # A mail scanner fetches every link: "yes" confirms, "no" and "full" only show a button.
    first = client.get(link["yes"])
    assert first.status_code == 200
    assert "You are confirmed as accepting new clients" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    page = client.get(link["no"]).get_data(as_text=True)
    assert "Yes, I am not accepting new clients" in page
    client.get(link["full_until"])
    profile = client.get("/api/v1/therapists/t-1", headers=admin).json
    assert profile["accepting_new_clients"] is True
    confirmed = profile["accepting_confirmed_at"]
    assert datetime.fromisoformat(confirmed) > datetime.now(UTC) - timedelta(minutes=1)
    # Opening "yes" again changes nothing.
    again = client.get(link["yes"]).get_data(as_text=True)
    assert "already confirmed" in again
    assert (
        client.get("/api/v1/therapists/t-1", headers=admin).json["accepting_confirmed_at"]
        == confirmed
    )
    # The therapist's own click on "no": one button, and they stop being matched.
    said_no = client.post(link["no"], data={"csrf_token": token(client, link["no"])})
    assert said_no.status_code == 200
    assert matched(client, admin)["results"] == []
    # The used link cannot be replayed, whatever its answer.
    replay = client.get(link["yes"])
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)
    assert matched(client, admin)["results"] == []


def test_full_until_needs_a_future_date(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile(id="t-1"))
    link = links(client, admin, "t-1")["full_until"]
    csrf = token(client, link)
    bad = client.post(link, data={"csrf_token": csrf, "until": "2001-01-01"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#until"' in page
    soon = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    done = client.post(link, data={"csrf_token": csrf, "until": soon})
    assert done.status_code == 200
    assert f"full until {soon}" in done.get_data(as_text=True)
    profile = client.get("/api/v1/therapists/t-1", headers=admin).json
    assert profile["accepting_new_clients"] is False


def test_a_forged_or_foreign_link_is_refused(
    client: FlaskClient, admin: Headers, make_profile: Profile, tmp_path: Path
) -> None:
    put(client, admin, make_profile(id="t-1"))
    link = links(client, admin, "t-1")["yes"]
    token_part = link.split("/")[2]
    forged = link.replace(token_part, token_part[:-2] + ("AA" if token_part[-2:] != "AA" else "BB"))
    response = client.get(forged)
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
    assert re.search(r"<h1>This link cannot be used</h1>", response.get_data(as_text=True))


def test_yes_from_someone_not_accepting_asks_first(
    client: FlaskClient, admin: Headers, make_profile: Profile
) -> None:
    put(client, admin, make_profile(id="t-1"))
    link = links(client, admin, "t-1")
    # The directory lists them as not accepting after the email went out.
    put(client, admin, make_profile(id="t-1", accepting_new_clients=False))
    fetched = client.get(link["yes"])  # a mail scanner: nothing changes
    assert "Yes, I am accepting new clients" in fetched.get_data(as_text=True)
    assert (
        client.get("/api/v1/therapists/t-1", headers=admin).json["accepting_new_clients"] is False
    )
    clicked = client.post(link["yes"], data={"csrf_token": token(client, link["yes"])})
    assert "You are confirmed as accepting new clients" in clicked.get_data(as_text=True)
    profile = client.get("/api/v1/therapists/t-1", headers=admin).json
    assert profile["accepting_new_clients"] is True
    assert [r["therapist_id"] for r in matched(client, admin)["results"]] == ["t-1"]
