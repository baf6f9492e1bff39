"""``POST /api/v1/match`` through the API: the contract's example, filters, errors, freshness."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from matcher.config import Settings
from matcher.core.scoring import FEATURES
from matcher.schemas.match import MatchResponseSchema

Headers = dict[str, str]

CONTRACT_REQUEST: dict[str, Any] = {
    "intake": {
        "jurisdiction": "US-CA",
        "age_group": "adults",
        "concerns": ["depression"],
        "modalities": ["cbt", "ipt"],
        "languages": ["es", "en"],
        "identities": ["latinx"],
        "wants_shared_identity": False,
        "therapist_genders": ["woman"],
        "faith": None,
        "formats": ["video"],
        "location": {"lat": 34.1, "lon": -118.3},
        "max_distance_km": 25,
        "timezone": "America/Los_Angeles",
        "availability": [{"day": "tue", "start": "18:00", "end": "21:00"}],
        "max_fee": 100,
        "insurance": "aetna",
        "style": {"directiveness": -1, "challenge": 1},
        "must_have": ["language"],
        "exclude_therapists": ["t-000987"],
    },
    "limit": 10,
    "record": False,
    "client_ref": None,
}


def request(**intake: Any) -> dict[str, Any]:
    body = copy.deepcopy(CONTRACT_REQUEST)
    body["intake"].update(intake)
    return body


def test_contract_example_on_demo_directory(demo_client: FlaskClient, demo_admin: Headers) -> None:
    response = demo_client.post("/api/v1/match", json=CONTRACT_REQUEST, headers=demo_admin)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["match_id"] is None
    assert body["model"]["version"] == 1
    assert 1 <= len(body["results"]) <= 10
    total = demo_client.get("/api/v1/therapists?page_size=1", headers=demo_admin).json["total"]
    assert body["eligible"] + sum(body["excluded"].values()) == total
    assert body["excluded"]["jurisdiction"] > 0
    intercept = body["model"]["intercept"]
    for rank, result in enumerate(body["results"], start=1):
        assert result["rank"] == rank
        assert set(result["contributions"]) == set(FEATURES)
        assert math.isclose(
            intercept + sum(result["contributions"].values()), result["score"], abs_tol=1e-6
        )
        assert 0 <= result["score"] <= 1
        assert result["reasons"] and all(isinstance(r, str) and r for r in result["reasons"])
        # must_have language: every result speaks Spanish or English.
        profile = demo_client.get(
            f"/api/v1/therapists/{result['therapist_id']}", headers=demo_admin
        ).json
        assert {"es", "en"} & set(profile["languages"])
        assert any(lic["jurisdiction"] == "US-CA" for lic in profile["licenses"])
        assert profile["accepting_new_clients"] and profile["capacity"] > 0
        assert "video" in profile["formats"]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["warnings"] == []  # always present; nothing to say about this intake
    assert MatchResponseSchema().validate(body) == {}


def test_minimal_intake_needs_only_jurisdiction(
    demo_client: FlaskClient, demo_admin: Headers
) -> None:
    body = demo_client.post(
        "/api/v1/match", json={"intake": {"jurisdiction": "CA-ON"}}, headers=demo_admin
    ).json
    assert len(body["results"]) == 10
    # No preferences: only the alliance record differs, so every contribution but it is zero.
    for result in body["results"]:
        assert all(v == 0 for k, v in result["contributions"].items() if k != "alliance")


def test_relaxations_when_too_few(
    client: FlaskClient, admin: Headers, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client.put(
        "/api/v1/therapists/t-ko",
        headers=admin,
        json=make_profile(id="t-ko", languages=["ko", "en"]),
    )
    for n in range(2):
        client.put(
            f"/api/v1/therapists/t-en{n}",
            headers=admin,
            json=make_profile(id=f"t-en{n}", languages=["en"], formats=["in_person"]),
        )
    body = client.post(
        "/api/v1/match",
        headers=admin,
        json={
            "intake": {
                "jurisdiction": "US-CA",
                "languages": ["ko"],
                "must_have": ["language"],
                "formats": ["video"],
            }
        },
    ).json
    assert body["eligible"] == 1
    assert body["excluded"] == {"format": 2}
    # Dropping either requirement alone adds nobody: the other two fail on both.
    assert body["relaxations"] == []
    body = client.post(
        "/api/v1/match",
        headers=admin,
        json={"intake": {"jurisdiction": "US-CA", "languages": ["ko"], "must_have": ["language"]}},
    ).json
    assert body["relaxations"] == [{"drop": "language", "adds": 2}]


def test_validation_names_fields(client: FlaskClient, admin: Headers) -> None:
    bad = {
        "intake": {
            "age_group": "toddlers",
            "languages": ["en", "en"],
            "must_have": ["gender", "charisma"],
            "availability": [{"day": "tue", "start": "18:00", "end": "17:00"}],
        },
        "limit": 51,
        "surprise": True,
    }
    response = client.post("/api/v1/match", json=bad, headers=admin)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) >= {
        "intake.jurisdiction",
        "intake.age_group",
        "intake.languages",
        "intake.must_have[1]",
        "intake.availability[0].end",
        "intake.timezone",
        "limit",
        "surprise",
    }


def test_limit_must_be_an_integer(client: FlaskClient, admin: Headers) -> None:
    for limit in (2.5, "3", 0, True):
        body = {"intake": {"jurisdiction": "US-CA"}, "limit": limit}
        assert client.post("/api/v1/match", json=body, headers=admin).status_code == 422, limit


def test_scopes(client: FlaskClient, make_key: Callable[..., Headers]) -> None:
    body = {"intake": {"jurisdiction": "US-CA"}}
    assert client.post("/api/v1/match", json=body).status_code == 401
    assert client.post("/api/v1/match", json=body, headers=make_key("profiles")).status_code == 403
    assert client.post("/api/v1/match", json=body, headers=make_key("match")).status_code == 200
    recorded = dict(body, record=True)
    assert client.post("/api/v1/match", json=recorded, headers=make_key("match")).status_code == 403


def test_writes_reach_every_worker(
    app: Flask,
    settings: Settings,
    make_app: Callable[..., Flask],
    admin: Headers,
    make_profile: Callable[..., dict[str, Any]],
) -> None:
    """Two apps on one database stand in for two gunicorn workers."""
    other = make_app(settings)
    writer, reader = app.test_client(), other.test_client()
    body = {"intake": {"jurisdiction": "US-CA"}}
    assert reader.post("/api/v1/match", json=body, headers=admin).json["eligible"] == 0
    writer.put("/api/v1/therapists/t-1", json=make_profile(id="t-1"), headers=admin)
    first = reader.post("/api/v1/match", json=body, headers=admin).json
    assert [r["therapist_id"] for r in first["results"]] == ["t-1"]
    writer.put("/api/v1/therapists/t-1", json=make_profile(id="t-1", name="Renamed"), headers=admin)
    assert (
        reader.post("/api/v1/match", json=body, headers=admin).json["results"][0]["name"]
        == "Renamed"
    )
    writer.delete("/api/v1/therapists/t-1", headers=admin)
    assert reader.post("/api/v1/match", json=body, headers=admin).json["eligible"] == 0


def test_hard_filters_never_traded_off(
    client: FlaskClient, admin: Headers, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client.put(
        "/api/v1/therapists/t-full", headers=admin, json=make_profile(id="t-full", capacity=0)
    )
    client.put(
        "/api/v1/therapists/t-ny",
        headers=admin,
        json=make_profile(id="t-ny", licenses=[{"jurisdiction": "US-NY", "credential": "LCSW"}]),
    )
    client.put(
        "/api/v1/therapists/t-kids",
        headers=admin,
        json=make_profile(id="t-kids", populations=["children"]),
    )
    client.put("/api/v1/therapists/t-ok", headers=admin, json=make_profile(id="t-ok"))
    client.put("/api/v1/therapists/t-skip", headers=admin, json=make_profile(id="t-skip"))
    body = client.post(
        "/api/v1/match",
        headers=admin,
        json={
            "intake": {
                "jurisdiction": "US-CA",
                "age_group": "adults",
                "exclude_therapists": ["t-skip"],
            }
        },
    ).json
    assert [r["therapist_id"] for r in body["results"]] == ["t-ok"]
    assert body["excluded"] == {"jurisdiction": 1, "capacity": 1, "age_group": 1, "excluded": 1}


def test_a_must_have_without_a_preference_is_accepted_with_a_warning(
    client: FlaskClient, admin: Headers, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client.put("/api/v1/therapists/t-1", headers=admin, json=make_profile(id="t-1"))
    intake = {"jurisdiction": "US-CA", "must_have": ["language", "cost"], "formats": ["video"]}
    response = client.post("/api/v1/match", headers=admin, json={"intake": intake})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["eligible"], body["excluded"]) == (1, {})
    assert body["warnings"] == [
        "must_have 'language' ignored: no languages given",
        "must_have 'cost' ignored: no max_fee or insurance given",
    ]
    assert MatchResponseSchema().validate(body) == {}


def test_in_person_without_a_location_is_accepted_with_a_warning(
    client: FlaskClient, admin: Headers, make_profile: Callable[..., dict[str, Any]]
) -> None:
    far_away = make_profile(
        id="t-far", formats=["in_person"], location={"lat": 37.77, "lon": -122.42}
    )
    client.put("/api/v1/therapists/t-far", headers=admin, json=far_away)
    body = client.post(
        "/api/v1/match",
        headers=admin,
        json={"intake": {"jurisdiction": "US-CA", "formats": ["in_person"]}},
    ).json
    assert [r["therapist_id"] for r in body["results"]] == ["t-far"]
    assert "Offers in-person sessions" in body["results"][0]["reasons"]
    assert body["warnings"] == [
        "formats 'in_person' given without a location: distance not checked"
    ]
    placed = client.post(
        "/api/v1/match",
        headers=admin,
        json={
            "intake": {
                "jurisdiction": "US-CA",
                "formats": ["in_person"],
                "location": {"lat": 34.1, "lon": -118.3},
            }
        },
    ).json
    assert (placed["eligible"], placed["warnings"]) == (0, [])


def test_reasons_name_every_feature_that_counted(
    client: FlaskClient, admin: Headers, make_profile: Callable[..., dict[str, Any]]
) -> None:
    canadian_fee = {"amount": 120, "currency": "CAD", "sliding_scale_min": None}
    client.put(
        "/api/v1/therapists/t-1", headers=admin, json=make_profile(id="t-1", fee=canadian_fee)
    )
    intake = {
        "jurisdiction": "US-CA",
        "therapist_genders": ["woman"],
        "style": {"directiveness": 1},
        "formats": ["video"],
        "max_fee": 150,
    }
    body = client.post("/api/v1/match", headers=admin, json={"intake": intake}).json
    result = body["results"][0]
    counted = {name for name, value in result["contributions"].items() if value}
    assert counted == {"format", "cost", "style", "gender", "alliance"}
    assert result["reasons"] == [
        "Offers video sessions",
        "Fee CA$120 is within your CA$150 limit",
        "Therapy style close to what you asked for",
        "A woman, as you asked",
        "No early-alliance ratings yet, so counted as average",
    ]
