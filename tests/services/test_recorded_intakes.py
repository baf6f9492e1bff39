"""Recorded intakes keep only what is read again, coarsened; retention erases old ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlmodel import col

from matcher.services import clients, crisis, recording, referrals
from matcher.services.recording import RECORDED_FIELDS
from matcher.storage.tables import AllianceRating, AuditEvent, MatchRecord, Referral, UrgentCase
from matcher.storage.types import utcnow

FULL_INTAKE: dict[str, Any] = {
    "jurisdiction": "US-CA",
    "age_group": None,
    "concerns": ["grief"],
    "modalities": [],
    "languages": None,
    "identities": [],
    "wants_shared_identity": False,
    "therapist_genders": [],
    "faith": None,
    "formats": ["video", "in_person"],
    "location": {"lat": 34.0522342, "lon": -118.2436849},
    "max_distance_km": 25.0,
    "timezone": None,
    "availability": [],
    "max_fee": None,
    "insurance": None,
    "style": {},
    "must_have": [],
    "exclude_therapists": [],
}


def _seed(client: FlaskClient, admin: dict[str, str], make_profile: Callable[..., Any]) -> None:
    for n in range(3):
        answer = client.put(
            f"/api/v1/therapists/t-{n:02d}",
            json=make_profile(id=f"t-{n:02d}", capacity=10),
            headers=admin,
        )
        assert answer.status_code == 201


def _record(app: Flask, client_ref: str | None, intake: dict[str, Any] | None = None) -> str:
    services = app.extensions["matcher"]
    with services.db.transaction() as session:
        shown, match_id = recording.record_match(
            session,
            matching=services.matching,
            intake=intake or FULL_INTAKE,
            limit=3,
            client_ref=client_ref,
            key_id="test",
            exploration=0.0,
            rng=np.random.default_rng(0),
        )
        referral = referrals.refer(
            session,
            match_id=match_id,
            therapist_id=next(c.therapist_id for c in shown.candidates if c.rank == 1),
            key_id="test",
        )
        referrals.rate(
            session,
            referral_id=referral.id,
            instrument="srs",
            session_number=1,
            items=[8, 8, 8, 8],
            key_id="test",
        )
    return match_id


def test_a_recorded_intake_keeps_only_answers_given_and_a_coarse_location(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_profile: Callable[..., Any]
) -> None:
    _seed(client, admin, make_profile)
    match_id = _record(app, "C-1")
    with app.extensions["matcher"].db.session() as session:
        stored = recording.get_match(session, match_id=match_id).intake
    assert stored == {
        "jurisdiction": "US-CA",
        "concerns": ["grief"],
        "formats": ["video", "in_person"],
        "location": {"lat": 34.05, "lon": -118.24},
        "max_distance_km": 25.0,
    }
    assert set(stored) <= set(RECORDED_FIELDS)


def test_every_recorded_field_is_one_the_matching_query_reads() -> None:
    # The query parser is what the re-match, relax and preview paths feed a stored intake to.
    from matcher.core.scoring import query

    source = Path(query.__file__).read_text(encoding="utf-8")
    unread = [name for name in RECORDED_FIELDS if f'"{name}"' not in source]
    assert not unread


def test_retention_erases_old_intakes_and_keeps_learning(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_profile: Callable[..., Any]
) -> None:
    _seed(client, admin, make_profile)
    old, new = _record(app, "C-OLD"), _record(app, "C-NEW")
    anonymous_old = _record(app, None)
    db = app.extensions["matcher"].db
    with db.transaction() as session:
        closed = crisis.open_case(
            session, risk="yes", jurisdiction="US-CA", match_id=old, client_ref="C-OLD",
            created_by="test",
        )  # fmt: skip
        waiting = crisis.open_case(
            session, risk="yes", jurisdiction="US-CA", match_id=old, client_ref="C-OLD",
            created_by="test",
        )  # fmt: skip
        assert closed is not None and waiting is not None
        crisis.close(session, case_id=closed.id, by="test", action="called")
        long_ago = utcnow() - timedelta(days=40)
        session.execute(
            update(MatchRecord)
            .where(col(MatchRecord.id).in_([old, anonymous_old]))
            .values(created_at=long_ago)
        )
        session.execute(
            update(UrgentCase)
            .where(col(UrgentCase.id).in_([closed.id, waiting.id]))
            .values(created_at=long_ago)
        )
    with db.transaction() as session:
        assert clients.expire(session, days=30, actor="test") == 2
    with db.transaction() as session:
        assert clients.expire(session, days=30, actor="test") == 0  # idempotent
    with db.session() as session:
        rows = {m.id: m for m in session.execute(select(MatchRecord)).scalars()}
        cases = {c.id: c for c in session.execute(select(UrgentCase)).scalars()}
        assert rows[old].intake == {} and rows[old].client_ref is None and rows[old].results is None
        assert rows[anonymous_old].intake == {}
        assert rows[new].intake and rows[new].client_ref == "C-NEW" and rows[new].results
        assert cases[closed.id].client_ref is None
        assert cases[waiting.id].client_ref == "C-OLD"  # still waits for a person
        # Learning keeps every referral and rating, and the features it reads.
        assert len(session.execute(select(Referral)).scalars().all()) == 3
        assert len(session.execute(select(AllianceRating)).scalars().all()) == 3
        assert rows[old].feature_means
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "client.expire"))
            .scalars()
            .all()
        )
        assert [e.details["matches"] for e in events] == [2]
        assert all("C-OLD" not in str(e.details) + e.note for e in events)
