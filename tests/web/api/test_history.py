"""POST /api/v1/history/import: past referrals with ratings, all or nothing, marked imported."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from matcher.config import Settings
from matcher.storage.database import Database
from matcher.storage.tables import AllianceRating, Referral

Headers = dict[str, str]


def _record(therapist_id: str = "t-000123", **changes: Any) -> dict[str, Any]:
    record = {
        "client_ref": "past-0001",
        "intake": {"jurisdiction": "US-CA", "languages": ["es"]},
        "therapist_id": therapist_id,
        "referred_at": "2025-06-01T10:00:00Z",
        "ratings": [
            {"instrument": "wai-sr", "session": 1, "items": [4] * 12},
            {"instrument": "wai-sr", "session": 2, "items": [5] * 12},
        ],
    }
    record.update(changes)
    return record


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        referrals = session.execute(select(func.count()).select_from(Referral)).scalar_one()
        ratings = session.execute(select(func.count()).select_from(AllianceRating)).scalar_one()
    return referrals, ratings


def test_array_and_ndjson_import_marked_pairs_without_propensity(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Callable[..., dict[str, Any]]
) -> None:
    assert client.put(
        "/api/v1/therapists/t-000123", json=make_profile(), headers=admin
    ).status_code in (200, 201)
    response = client.post("/api/v1/history/import", json=[_record()], headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"referrals": 1, "ratings": 2}
    body = "\n".join(json.dumps(_record(client_ref=f"past-{i}")) for i in range(3))
    response = client.post(
        "/api/v1/history/import",
        data=body,
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.get_json()
    assert _counts(db) == (4, 8)
    with db.session() as session:
        stored = session.execute(select(Referral)).scalars().all()
    assert all(r.imported and r.propensity is None for r in stored)
    assert all(r.features["language"] > 0 for r in stored)  # the intake's Spanish is met


def test_one_bad_record_imports_nothing_and_names_it(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client.put("/api/v1/therapists/t-000123", json=make_profile(), headers=admin)
    bad_items = _record(ratings=[{"instrument": "wai-sr", "session": 1, "items": [9] * 12}])
    response = client.post(
        "/api/v1/history/import",
        json=[_record(), bad_items, _record(therapist_id="t-999999")],
        headers=admin,
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert any(key.startswith("[1].ratings") for key in errors), errors
    assert _counts(db) == (0, 0)
    response = client.post(
        "/api/v1/history/import", json=[_record(), _record(therapist_id="t-999999")], headers=admin
    )
    assert response.status_code == 422
    assert "[1].therapist_id" in response.get_json()["errors"]
    assert _counts(db) == (0, 0)


def test_text_that_cannot_be_stored_is_refused_by_field(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client.put("/api/v1/therapists/t-000123", json=make_profile(), headers=admin)
    body = json.dumps([_record()]).replace("past-0001", "\\ud800")
    response = client.post(
        "/api/v1/history/import",
        data=body,
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "[0].client_ref" in response.get_json()["errors"]
    assert _counts(db) == (0, 0)


def test_history_import_is_bounded_like_the_profile_import(
    settings: Settings,
    make_app: Callable[..., Flask],
    admin: Headers,
    db: Database,
    make_profile: Callable[..., dict[str, Any]],
) -> None:
    bounded = make_app(replace(settings, max_import_records=3, max_import_errors=2))
    client = bounded.test_client()
    assert client.put(
        "/api/v1/therapists/t-000123", json=make_profile(), headers=admin
    ).status_code in (200, 201)
    four = [_record(client_ref=f"past-{i}") for i in range(4)]
    refused = client.post("/api/v1/history/import", json=four, headers=admin)
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"body": ["At most 3 referrals per import."]}
    bad = [_record(client_ref=f"past-{i}", referred_at="yesterday") for i in range(3)]
    capped = client.post("/api/v1/history/import", json=bad, headers=admin).get_json()
    assert len(capped["errors"]) == 2
    assert "The first 2 of 3 problems are listed." in capped["detail"]
    lines = f"{json.dumps(_record())}\n{{not json\n"
    broken = client.post(
        "/api/v1/history/import",
        data=lines,
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert broken.status_code == 400, broken.get_json()
    assert broken.get_json()["errors"] == {"line 2": [broken.get_json()["errors"]["line 2"][0]]}
    assert _counts(db) == (0, 0)
