"""The alliance records a worker keeps: read incrementally, always equal to a fresh reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlmodel import col

from matcher.services import alliance
from matcher.services import models as model_versions
from matcher.storage.database import Database
from matcher.storage.tables import AllianceRating, Referral
from tests.web.api.test_learning_loop import referred, wai_items

Headers = dict[str, str]


def _rate_some(
    client: FlaskClient, admin: Headers, rng: np.random.Generator, therapists: int, n: int
) -> None:
    for _ in range(n):
        therapist = f"t-{int(rng.integers(therapists))}"
        referral = referred(client, admin, therapist, languages=["es"])
        for session in range(1, int(rng.integers(1, 4)) + 1):
            rated = client.post(
                f"/api/v1/referrals/{referral}/alliance",
                headers=admin,
                json=_rating(rng, session),
            )
            assert rated.status_code == 201, rated.json


def _rating(rng: np.random.Generator, session: int) -> dict[str, Any]:
    if rng.random() < 0.3:
        return {"instrument": "srs", "session": session, "items": rng.integers(5, 11, 4).tolist()}
    return {"instrument": "wai-sr", "session": session, "items": wai_items(rng.uniform(2.5, 5))}


def _fresh(db: Database) -> dict[str, float]:
    with db.session() as session:
        return alliance.alliance_feature_values(session, model_versions.active_weights(session))


def _kept(db: Database, source: alliance.AllianceRecordSource) -> dict[str, float]:
    with db.session() as session:
        return source(session, model_versions.active_weights(session))


def test_a_kept_reader_matches_a_fresh_one_as_ratings_arrive(
    client: FlaskClient, admin: Headers, db: Database, make_profile: Callable[..., dict[str, Any]]
) -> None:
    for n in range(5):
        languages = ["en", "es"] if n % 2 else ["en"]
        profile = make_profile(id=f"t-{n}", languages=languages, capacity=50)
        assert client.put(f"/api/v1/therapists/t-{n}", json=profile, headers=admin).status_code
    rng = np.random.default_rng(2)
    source = alliance.AllianceRecordSource()
    assert _kept(db, source) == {}
    for _ in range(3):
        _rate_some(client, admin, rng, therapists=5, n=6)
        kept, fresh = _kept(db, source), _fresh(db)
        assert kept.keys() == fresh.keys() and len(kept) >= 3
        assert all(abs(kept[t] - fresh[t]) < 1e-12 for t in fresh)
    # A rating the revision order cannot show (stored before ratings carried revisions): the
    # count no longer matches what the reader holds, so it reads everything again.
    _rate_some(client, admin, rng, therapists=5, n=2)
    with db.transaction() as session:
        session.execute(update(AllianceRating).values(revision=None))
    _rate_some(client, admin, rng, therapists=5, n=1)
    with db.transaction() as session:
        newest = session.execute(
            update(AllianceRating)
            .where(col(AllianceRating.revision).is_not(None))
            .values(revision=1)
            .returning(col(AllianceRating.id))
        ).all()
    assert newest  # the last ratings now look older than everything the reader holds
    kept, fresh = _kept(db, source), _fresh(db)
    assert all(abs(kept[t] - fresh[t]) < 1e-12 for t in fresh) and kept.keys() == fresh.keys()


def test_the_match_snapshot_counts_each_therapists_rated_referrals(
    app: Flask,
    client: FlaskClient,
    admin: Headers,
    db: Database,
    make_profile: Callable[..., dict[str, Any]],
) -> None:
    for n in range(5):
        profile = make_profile(id=f"t-{n}", languages=["en", "es"], capacity=50)
        assert client.put(f"/api/v1/therapists/t-{n}", json=profile, headers=admin).status_code
    _rate_some(client, admin, np.random.default_rng(4), therapists=4, n=9)
    referred(client, admin, "t-0", languages=["es"])  # referred, never rated: not counted
    with db.session() as session:
        rated = session.execute(
            select(Referral.therapist_id, func.count(func.distinct(Referral.id)))
            .join(AllianceRating, col(AllianceRating.referral_id) == col(Referral.id))
            .group_by(Referral.therapist_id)
        ).all()
    expected = {therapist: int(count) for therapist, count in rated}
    assert sum(expected.values()) == 9 and "t-4" not in expected
    snap = app.extensions["matcher"].matching.snapshot()
    assert dict(snap.referral_counts) == expected
    assert snap.referral_rows.tolist() == [float(expected.get(str(t), 0)) for t in snap.index.ids]
