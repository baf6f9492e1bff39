"""The learning loop's records: recorded matches, referrals and early-alliance ratings."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from matcher.core.learning import scale
from matcher.core.learning.instruments import score_items
from matcher.core.learning.record import estimate_records
from matcher.core.learning.scale import ReferralAlliance
from matcher.core.scoring import FEATURES, MatchOutcome, WeightSet
from matcher.core.scoring.index import Floats
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
            rating.revision = counters.bump(session, name=counters.ALLIANCE)
            session.add(rating)
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
    clients, would look worse than one shown only to well-matched clients.

    Ratings and referrals never change once stored, so each worker keeps what it has read and
    asks only for ratings stored at a newer alliance revision than the newest it holds
    (revisions commit in order); when the count of stored ratings up to that revision differs
    from what it holds, it reads everything again. Every call re-estimates all records from the
    arrays held.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._seen: set[str] = set()
        self._latest: int | None = None  # the newest alliance revision read
        self._referrals: dict[str, int] = {}
        self._therapists: dict[str, int] = {}
        self._instruments: dict[str, int] = {}
        self._referral_therapist = np.empty(0, dtype=np.intp)
        self._referral_values = np.empty((0, len(MATCH_FEATURES)))
        self._rating_referral = np.empty(0, dtype=np.intp)
        self._rating_instrument = np.empty(0, dtype=np.intp)
        self._rating_score = np.empty(0)

    def _read(self, session: Session) -> None:
        """Take in the ratings stored since the last read, and the referrals they belong to."""
        rows = stored.ratings_since(session, after=self._latest)
        rows = [r for r in rows if r[0] not in self._seen]
        if self._latest is None:
            self._latest = 0  # everything stored so far is read; ratings carry revisions >= 1
        if not rows:
            return
        fresh = list(dict.fromkeys(r[1] for r in rows if r[1] not in self._referrals))
        therapist_of = {r[1]: r[2] for r in rows}
        features = dict(stored.referral_features(session, fresh))
        codes = [self._therapists.setdefault(therapist_of[r], len(self._therapists)) for r in fresh]
        base = len(self._referrals)
        self._referrals.update((r, base + i) for i, r in enumerate(fresh))
        self._referral_therapist = np.concatenate(
            [self._referral_therapist, np.asarray(codes, dtype=np.intp)]
        )
        values = [match_values(features.get(r, {})) for r in fresh]
        self._referral_values = np.vstack([self._referral_values, *values])
        self._seen.update(r[0] for r in rows)
        revisions = [r[5] for r in rows if r[5] is not None]
        if revisions:
            self._latest = max(*revisions, self._latest)
        referrals = np.asarray([self._referrals[r[1]] for r in rows], dtype=np.intp)
        kinds = [self._instruments.setdefault(r[3], len(self._instruments)) for r in rows]
        self._rating_referral = np.concatenate([self._rating_referral, referrals])
        self._rating_instrument = np.concatenate(
            [self._rating_instrument, np.asarray(kinds, dtype=np.intp)]
        )
        self._rating_score = np.concatenate([self._rating_score, [float(r[4]) for r in rows]])

    def __call__(self, session: Session, weights: WeightSet) -> dict[str, float]:
        """Records for every rated therapist, beyond the match part of ``weights``."""
        self._read(session)
        # Only ratings this read could have seen are counted: one committed since (at a newer
        # revision) is picked up next time, not by reading everything again.
        if stored.rating_count(session, upto=self._latest) != len(self._seen):
            self._reset()  # something was missed (or removed): read everything again
            self._read(session)
        if not len(self._rating_score):
            return {}
        mean, _ = scale.referral_means(
            self._rating_referral, self._rating_instrument, self._rating_score, len(self._referrals)
        )
        expected = self._referral_values @ np.array([weights.weights[k] for k in MATCH_FEATURES])
        records = estimate_records(self._referral_therapist, mean - expected)
        names = list(self._therapists)
        return {names[int(code)]: v for code, v in records.feature_values().items()}


def alliance_feature_values(session: Session, weights: WeightSet) -> dict[str, float]:
    """Every rated therapist's ``alliance`` feature, read afresh (``AllianceRecordSource``)."""
    return AllianceRecordSource()(session, weights)
