"""Queries on recorded matches, referrals and alliance ratings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from matcher.storage.tables import (
    AllianceRating,
    MatchCandidate,
    MatchRecord,
    Referral,
    Therapist,
)


def add_match(
    session: Session, *, record: MatchRecord, candidates: Sequence[dict[str, Any]]
) -> None:
    """Store a recorded match with its candidates (written at once, not through the ORM's
    unit of work: a recorded match is on a request's path and nothing reads it back there)."""
    table = MatchRecord.__table__  # type: ignore[attr-defined]
    session.execute(insert(table), [{c.name: getattr(record, c.name) for c in table.columns}])
    if candidates:
        _insert_candidates(session, record.id, candidates)


_CANDIDATE_COLUMNS = (
    "match_id", "therapist_id", "rank", "score", "propensity", "features", "exploration_propensity",
)  # fmt: skip


def _insert_candidates(
    session: Session, match_id: str, candidates: Sequence[dict[str, Any]]
) -> None:
    """A match's candidates (about a hundred rows) as the driver takes them fastest: COPY on
    PostgreSQL (one round trip, where executemany cost one a row), executemany on SQLite."""
    # Features are the engine's finite floats by name: orjson writes the JSON json would.
    rows = [
        (
            match_id,
            c["therapist_id"],
            c["rank"],
            c["score"],
            c["propensity"],
            orjson.dumps(c["features"]).decode(),
            c["exploration_propensity"],
        )
        for c in candidates
    ]
    connection = session.connection()
    names = ", ".join(_CANDIDATE_COLUMNS)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY match_candidate ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in _CANDIDATE_COLUMNS)
    connection.exec_driver_sql(f"INSERT INTO match_candidate ({names}) VALUES ({marks})", rows)


def candidate(session: Session, *, match_id: str, therapist_id: str) -> MatchCandidate | None:
    """A therapist's row in a recorded match, if it was kept."""
    return session.get(MatchCandidate, (match_id, therapist_id))


def referral_for_pair(session: Session, *, match_id: str, therapist_id: str) -> Referral | None:
    """The referral already made for this match and therapist, if any."""
    return session.execute(
        select(Referral).where(
            col(Referral.match_id) == match_id, col(Referral.therapist_id) == therapist_id
        )
    ).scalar_one_or_none()


def therapist_for_update(session: Session, *, therapist_id: str) -> Therapist | None:
    """A therapist row, locked until the transaction ends (PostgreSQL; SQLite locks at BEGIN)."""
    return session.get(Therapist, therapist_id, with_for_update=True)


def ratings_of(session: Session, *, referral_id: str) -> list[AllianceRating]:
    """A referral's ratings in session order."""
    return list(
        session.execute(
            select(AllianceRating)
            .where(col(AllianceRating.referral_id) == referral_id)
            .order_by(col(AllianceRating.session), col(AllianceRating.instrument))
        ).scalars()
    )


def rating_for(
    session: Session, *, referral_id: str, instrument: str, session_number: int
) -> AllianceRating | None:
    """The rating already stored for this referral, instrument and session."""
    return session.execute(
        select(AllianceRating).where(
            col(AllianceRating.referral_id) == referral_id,
            col(AllianceRating.instrument) == instrument,
            col(AllianceRating.session) == session_number,
        )
    ).scalar_one_or_none()


def rated_referrals(session: Session) -> list[tuple[Referral, dict[str, float] | None]]:
    """Every rated referral, by id, with its match's eligible-pool feature means."""
    rated = select(col(AllianceRating.referral_id)).distinct().subquery()
    rows = session.execute(
        select(Referral, col(MatchRecord.feature_means))
        .join(rated, rated.c.referral_id == col(Referral.id))
        .join(MatchRecord, col(MatchRecord.id) == col(Referral.match_id))
        .order_by(col(Referral.id))
    ).all()
    return [(row[0], row[1]) for row in rows]


def rating_scores(session: Session) -> list[tuple[str, str, str, float]]:
    """(referral id, therapist id, instrument, 0..1 score) for every stored rating."""
    return [(r[1], r[2], r[3], r[4]) for r in ratings_since(session, after=None)]


RatingRow = tuple[str, str, str, str, float, int | None]


def ratings_since(session: Session, *, after: int | None) -> list[RatingRow]:
    """(rating id, referral id, therapist id, instrument, score, alliance revision) of ratings
    stored at a revision above ``after`` (None: every rating)."""
    query = select(
        col(AllianceRating.id),
        col(AllianceRating.referral_id),
        col(Referral.therapist_id),
        col(AllianceRating.instrument),
        col(AllianceRating.score),
        col(AllianceRating.revision),
    ).join(Referral, col(Referral.id) == col(AllianceRating.referral_id))
    if after is not None:
        query = query.where(col(AllianceRating.revision) > after)
    # Read on index refreshes after a rating: plain tuples, without ORM row processing.
    rows = session.connection().execute(query).all()  # Rows are tuples (SQLAlchemy 2.1)
    return cast(list[RatingRow], rows)


def rating_count(session: Session, *, upto: int | None = None) -> int:
    """How many ratings are stored (with ``upto``: those without a revision or at most it)."""
    query = select(func.count()).select_from(AllianceRating)
    if upto is not None:
        revision = col(AllianceRating.revision)
        query = query.where(revision.is_(None) | (revision <= upto))
    return int(session.connection().execute(query).scalar_one())


def referral_features(
    session: Session, referral_ids: Sequence[str]
) -> list[tuple[str, dict[str, float]]]:
    """(referral id, feature values at match time) for the given referrals."""
    out: list[tuple[str, dict[str, float]]] = []
    for start in range(0, len(referral_ids), 1000):  # well under every backend's bound limit
        chunk = list(referral_ids[start : start + 1000])
        rows = session.execute(
            select(col(Referral.id), col(Referral.features)).where(col(Referral.id).in_(chunk))
        ).all()
        out.extend((str(referral), dict(features or {})) for referral, features in rows)
    return out


def referrals_of_match(session: Session, *, match_id: str) -> list[Referral]:
    """Referrals made from one recorded match, oldest first."""
    return list(
        session.execute(
            select(Referral)
            .where(col(Referral.match_id) == match_id)
            .order_by(col(Referral.created_at))
        ).scalars()
    )


def recent_intakes(session: Session, *, limit: int) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(match id, when, intake) of the newest ``limit`` recorded matches, newest first."""
    rows = session.execute(
        select(col(MatchRecord.id), col(MatchRecord.created_at), col(MatchRecord.intake))
        .order_by(col(MatchRecord.created_at).desc(), col(MatchRecord.id).desc())
        .limit(limit)
    ).all()
    return [(str(row[0]), row[1], dict(row[2])) for row in rows]


def rated_therapist_ids(session: Session) -> set[str]:
    """Therapists with at least one early-alliance rating (the "established" ones)."""
    query = (
        select(col(Referral.therapist_id))
        .join(AllianceRating, col(AllianceRating.referral_id) == col(Referral.id))
        .distinct()
    )
    return {str(therapist) for therapist in session.execute(query).scalars()}


def count_matches(session: Session, *, key_id: str | None = None) -> int:
    """How many matches are recorded (with ``key_id``: only those recorded under it)."""
    query = select(func.count()).select_from(MatchRecord)
    if key_id is not None:
        query = query.where(col(MatchRecord.key_id) == key_id)
    return int(session.execute(query).scalar_one())


def waiting_clients(
    session: Session, *, limit: int, organisation_id: str | None = None
) -> list[tuple[str, str, datetime, dict[str, Any]]]:
    """Clients whose recorded matches led to no referral yet, longest waiting first.

    Each as (client_ref, its newest match id, when it was first recorded, that match's intake).
    """
    referred = (
        select(col(MatchRecord.client_ref))
        .join(Referral, col(Referral.match_id) == col(MatchRecord.id))
        .where(col(MatchRecord.client_ref).is_not(None))
    )
    query = (
        select(
            col(MatchRecord.client_ref),
            col(MatchRecord.id),
            col(MatchRecord.created_at),
            col(MatchRecord.intake),
        )
        .where(col(MatchRecord.client_ref).is_not(None))
        .where(col(MatchRecord.client_ref).not_in(referred))
        .order_by(col(MatchRecord.created_at), col(MatchRecord.id))
    )
    if organisation_id is not None:
        query = query.where(col(MatchRecord.organisation_id) == organisation_id)
    rows = session.execute(query).all()
    first: dict[str, tuple[str, datetime, dict[str, Any]]] = {}
    for ref, match_id, created, intake in rows:
        since = first[ref][1] if ref in first else created
        first[str(ref)] = (str(match_id), since, dict(intake))
    ordered = sorted(first.items(), key=lambda item: (item[1][1], item[0]))
    return [(ref, m, since, intake) for ref, (m, since, intake) in ordered[:limit]]


def logged_matches(
    session: Session, *, explored_only: bool, every: int = 1
) -> list[tuple[MatchRecord, Referral, float, list[MatchCandidate]]]:
    """Recorded matches with a rated, not imported referral: the match, its first such referral,
    the referral's mean rating score, and every candidate kept (by therapist id).

    ``every`` > 1 keeps every so many matches in id order (ids are random: a random sample).
    """
    mean = (
        select(
            col(AllianceRating.referral_id).label("referral_id"),
            func.avg(col(AllianceRating.score)).label("score"),
        )
        .group_by(col(AllianceRating.referral_id))
        .subquery()
    )
    query = (
        select(MatchRecord, Referral, mean.c.score)
        .join(Referral, col(Referral.match_id) == col(MatchRecord.id))
        .join(mean, mean.c.referral_id == col(Referral.id))
        .where(col(Referral.imported).is_(False))
        .order_by(col(MatchRecord.id), col(Referral.id))
    )
    if explored_only:
        query = query.where(col(MatchRecord.exploration).is_(True))
    rows: dict[str, tuple[MatchRecord, Referral, float]] = {}
    for match, referral, score in session.execute(query).all():
        rows.setdefault(match.id, (match, referral, float(score)))
    ids = list(rows)[:: max(1, every)]
    kept: dict[str, list[MatchCandidate]] = {key: [] for key in ids}
    for start in range(0, len(ids), 500):  # stay under the database's bound-parameter limit
        chunk = ids[start : start + 500]
        for candidate in session.execute(
            select(MatchCandidate)
            .where(col(MatchCandidate.match_id).in_(chunk))
            .order_by(col(MatchCandidate.match_id), col(MatchCandidate.therapist_id))
        ).scalars():
            kept[candidate.match_id].append(candidate)
    return [(*rows[key], kept[key]) for key in ids]
