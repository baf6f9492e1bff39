"""The learning loop's records: recorded matches, referrals and early-alliance ratings."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from matcher.learning import scale
from matcher.learning.instruments import score_items
from matcher.learning.record import estimate_records
from matcher.learning.scale import ReferralAlliance
from matcher.scoring import FEATURES, MatchOutcome, WeightSet
from matcher.scoring.index import Floats
from matcher.storage import counters
from matcher.storage import outcomes as stored
from matcher.storage.database import Database
from matcher.storage.tables import AllianceRating, MatchRecord, Referral
from matcher.storage.types import utcnow


class OutcomeRefused(Exception):
    """A referral or rating that cannot be taken: HTTP status, message and fields."""

    def __init__(self, status: int, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Candidate:
    """A therapist kept with a recorded match: shown or not, with its chance of being shown."""

    therapist_id: str
    rank: int | None
    score: float
    propensity: float
    features: dict[str, float]


def record_match(
    db: Database,
    *,
    intake: dict[str, Any],
    limit: int,
    client_ref: str | None,
    outcome: MatchOutcome,
    candidates: Sequence[Candidate],
    model_version: int,
    key_id: str,
    exploration: bool,
    feature_means: dict[str, float] | None = None,
) -> str:
    """Store a match the caller asked to record; returns its id.

    Only what the caller sent is kept: the intake as validated and the opaque ``client_ref``.
    """
    record = MatchRecord(
        id=_new_id("m"),
        created_at=utcnow(),
        key_id=key_id,
        client_ref=client_ref,
        model_version=model_version,
        intake=intake,
        limit=limit,
        eligible=outcome.eligible,
        exploration=exploration,
        feature_means=feature_means,
    )
    rows = [
        {
            "therapist_id": c.therapist_id,
            "rank": c.rank,
            "score": c.score,
            "propensity": c.propensity,
            "features": c.features,
        }
        for c in candidates
    ]
    with db.transaction() as session:
        stored.add_match(session, record=record, candidates=rows)
    return record.id


def refer(db: Database, *, match_id: str, therapist_id: str, key_id: str) -> Referral:
    """Refer the client of a recorded match to one of its eligible therapists (takes a slot)."""
    with db.transaction() as session:
        if session.get(MatchRecord, match_id) is None:
            raise OutcomeRefused(
                422, f"No recorded match {match_id!r}.", {"match_id": ["Unknown match."]}
            )
        kept = stored.candidate(session, match_id=match_id, therapist_id=therapist_id)
        if kept is None:
            raise OutcomeRefused(
                422,
                f"{therapist_id!r} was not an eligible therapist kept with match {match_id!r}.",
                {"therapist_id": ["Not eligible in that match."]},
            )
        existing = stored.referral_for_pair(session, match_id=match_id, therapist_id=therapist_id)
        if existing is not None:
            raise OutcomeRefused(409, f"Already referred as {existing.id}.")
        therapist = stored.therapist_for_update(session, therapist_id=therapist_id)
        if therapist is None or not therapist.active or not therapist.accepting_new_clients:
            raise OutcomeRefused(409, f"{therapist_id!r} is not taking new clients now.")
        if therapist.capacity <= 0:
            raise OutcomeRefused(409, f"{therapist_id!r} has no open slot left.")
        # The referral takes a slot: the stored profile shows what is left, and the matching
        # index of every worker picks it up with the directory revision.
        revision = counters.bump(session, name=counters.DIRECTORY)
        therapist.capacity -= 1
        therapist.profile = dict(therapist.profile, capacity=therapist.capacity)
        therapist.revision = revision
        therapist.updated_at = utcnow()
        session.add(therapist)
        referral = Referral(
            id=_new_id("r"),
            match_id=match_id,
            therapist_id=therapist_id,
            model_version=session.get(MatchRecord, match_id).model_version,  # type: ignore[union-attr]
            created_at=utcnow(),
            key_id=key_id,
            features={
                name: float(kept.features[name]) for name in FEATURES if name in kept.features
            },
            score=kept.score,
            propensity=kept.propensity,
            rank=kept.rank,
        )
        session.add(referral)
    return referral


def get_referral(db: Database, *, referral_id: str) -> tuple[Referral, list[AllianceRating]] | None:
    """A referral with its ratings."""
    with db.session() as session:
        referral = session.get(Referral, referral_id)
        if referral is None:
            return None
        return referral, stored.ratings_of(session, referral_id=referral_id)


def _same_items(stored_items: Sequence[float], items: Sequence[float]) -> bool:
    return len(stored_items) == len(items) and all(
        abs(float(a) - float(b)) < 1e-9 for a, b in zip(stored_items, items, strict=True)
    )


def rate(
    db: Database,
    *,
    referral_id: str,
    instrument: str,
    session_number: int,
    items: Sequence[float],
    key_id: str,
) -> tuple[AllianceRating, bool]:
    """Store an early-alliance rating; (rating, created). Same again: the stored one."""
    try:
        scored = score_items(instrument, list(items))
    except ValueError as err:
        raise OutcomeRefused(422, str(err), {"items": [str(err)]}) from err
    rating = AllianceRating(
        id=_new_id("a"),
        referral_id=referral_id,
        instrument=instrument,
        session=session_number,
        items=[float(x) for x in items],
        total=scored.total,
        subscales=dict(scored.subscales),
        score=scored.score,
        flags=dict(scored.flags),
        created_at=utcnow(),
        key_id=key_id,
    )
    try:
        with db.transaction() as session:
            if session.get(Referral, referral_id) is None:
                raise OutcomeRefused(404, f"No referral {referral_id!r}.")
            existing = stored.rating_for(
                session,
                referral_id=referral_id,
                instrument=instrument,
                session_number=session_number,
            )
            if existing is not None:
                if _same_items(existing.items, rating.items):
                    return existing, False
                raise OutcomeRefused(
                    409,
                    f"Session {session_number} already has a different {instrument} rating "
                    f"({existing.id}).",
                )
            session.add(rating)
            counters.bump(session, name=counters.ALLIANCE)
    except IntegrityError:
        # Lost a race with an identical request: answer as if it came second.
        with db.session() as session:
            existing = stored.rating_for(
                session,
                referral_id=referral_id,
                instrument=instrument,
                session_number=session_number,
            )
        if existing is not None and _same_items(existing.items, rating.items):
            return existing, False
        raise OutcomeRefused(
            409, "A different rating for this session was stored meanwhile."
        ) from None
    return rating, True


def referral_alliance(session: Session) -> ReferralAlliance:
    """Every rated referral's mean early alliance, on the one scale shared by all instruments."""
    rows = stored.rating_scores(session)
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return scale.referral_alliance(*columns)


MATCH_FEATURES = tuple(name for name in FEATURES if name != "alliance")


def match_values(features: Mapping[str, float]) -> Floats:
    """A pair's match features (every feature but ``alliance``) as an array."""
    return np.array([float(features.get(name, 0.0)) for name in MATCH_FEATURES])


class AllianceRecordSource:
    """The ``alliance`` feature per rated therapist: its shrunken early-alliance record.

    A record is estimated from what each referral's alliance showed beyond the match features'
    part of the score under the model in force, at the values the pair had when it was matched.
    Otherwise a therapist the ranking lifts on its record alone, and so shown to less well-matched
    clients, would look worse than one shown only to well-matched clients. A referral's features
    never change, so they are read once and kept; the ratings are read on every call.
    """

    def __init__(self) -> None:
        self._values: dict[str, Floats] = {}

    def __call__(self, session: Session, weights: WeightSet) -> dict[str, float]:
        """Records for every rated therapist, beyond the match part of ``weights``."""
        rated = referral_alliance(session)
        if not len(rated.mean):
            return {}
        referrals = rated.referral_ids.tolist()
        missing = [r for r in referrals if r not in self._values]
        for referral, features in stored.referral_features(session, missing):
            self._values[referral] = match_values(features)
        blank = np.zeros(len(MATCH_FEATURES))
        values = np.stack([self._values.get(r, blank) for r in referrals])
        expected = values @ np.array([weights.weights[name] for name in MATCH_FEATURES])
        return estimate_records(rated.therapist_ids, rated.mean - expected).feature_values()


def alliance_feature_values(session: Session, weights: WeightSet) -> dict[str, float]:
    """Every rated therapist's ``alliance`` feature, read afresh (``AllianceRecordSource``)."""
    return AllianceRecordSource()(session, weights)
