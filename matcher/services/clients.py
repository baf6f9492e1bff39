"""A client by their pseudonymous reference: matches, referrals, ratings, and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, or_, select, update
from sqlmodel import Session, col

from matcher.storage import model_versions as audit_log
from matcher.storage import outcomes as stored
from matcher.storage.organisations import within
from matcher.storage.tables import AllianceRating, MatchRecord, Referral, UrgentCase
from matcher.storage.types import utcnow

__all__ = ["ClientHistory", "erase", "expire", "history"]


@dataclass(frozen=True)
class ClientHistory:
    """Everything recorded under one client reference, newest match first."""

    client_ref: str
    matches: list[MatchRecord]
    referrals: list[tuple[Referral, list[AllianceRating]]]
    cases: list[UrgentCase]


def history(
    session: Session, *, client_ref: str, organisation_id: str | None = None
) -> ClientHistory:
    """The client's recorded matches, referrals with their ratings, and urgent cases, within
    ``organisation_id`` (None: every organisation's; references are each organisation's own)."""
    matches = list(
        session.execute(
            select(MatchRecord)
            .where(
                col(MatchRecord.client_ref) == client_ref,
                within(col(MatchRecord.organisation_id), organisation_id),
            )
            .order_by(col(MatchRecord.created_at).desc())
        ).scalars()
    )
    ids = [m.id for m in matches]
    made = (
        list(
            session.execute(
                select(Referral)
                .where(col(Referral.match_id).in_(ids))
                .order_by(col(Referral.created_at))
            ).scalars()
        )
        if ids
        else []
    )
    cases = list(
        session.execute(
            select(UrgentCase)
            .where(
                col(UrgentCase.client_ref) == client_ref,
                within(col(UrgentCase.organisation_id), organisation_id),
            )
            .order_by(col(UrgentCase.created_at).desc())
        ).scalars()
    )
    return ClientHistory(
        client_ref=client_ref,
        matches=matches,
        referrals=[(r, stored.ratings_of(session, referral_id=r.id)) for r in made],
        cases=cases,
    )


def erase(
    session: Session, *, client_ref: str, actor: str, organisation_id: str | None = None
) -> int:
    """Delete every recorded intake under ``client_ref`` within ``organisation_id`` (None:
    every organisation's); how many matches were erased.

    Idempotent. Referrals and ratings stay for learning, with no link left to the reference:
    the match rows keep only the model version and the features learning reads. The audit log
    says an erasure happened, never the reference.
    """
    ids = list(
        session.execute(
            select(col(MatchRecord.id)).where(
                col(MatchRecord.client_ref) == client_ref,
                within(col(MatchRecord.organisation_id), organisation_id),
            )
        ).scalars()
    )
    if ids:
        session.execute(
            update(MatchRecord)
            .where(col(MatchRecord.id).in_(ids))
            .values(client_ref=None, intake={}, results=None)
        )
    erased = len(ids)
    session.execute(
        update(UrgentCase)
        .where(
            col(UrgentCase.client_ref) == client_ref,
            within(col(UrgentCase.organisation_id), organisation_id),
        )
        .values(client_ref=None)
    )
    audit_log.audit(
        session,
        actor=actor,
        action="client.erase",
        subject="client",
        note="A client's recorded intakes were erased on request.",
        details={"matches": erased},
    )
    return erased


def expire(session: Session, *, days: int, actor: str, now: datetime | None = None) -> int:
    """Erase every recorded intake older than ``days`` (the retention setting); how many.

    As with ``erase``: the intake, the reference and the results shown go, referrals and
    ratings stay for learning with no link left. Closed urgent cases that old lose their
    reference too; open ones wait for a person. Idempotent; the audit log says how many.
    """
    cutoff = (now or utcnow()) - timedelta(days=days)
    # Not yet erased: a reference or an intake left (erasing empties both, and the results).
    kept = or_(
        col(MatchRecord.client_ref).is_not(None),
        cast(col(MatchRecord.intake), String) != "{}",
    )
    ids = list(
        session.execute(
            select(col(MatchRecord.id)).where(col(MatchRecord.created_at) < cutoff, kept)
        ).scalars()
    )
    for start in range(0, len(ids), 1000):  # well under every backend's bound limit
        session.execute(
            update(MatchRecord)
            .where(col(MatchRecord.id).in_(ids[start : start + 1000]))
            .values(client_ref=None, intake={}, results=None)
        )
    session.execute(
        update(UrgentCase)
        .where(
            col(UrgentCase.created_at) < cutoff,
            col(UrgentCase.closed_at).is_not(None),
            col(UrgentCase.client_ref).is_not(None),
        )
        .values(client_ref=None)
    )
    if ids:
        audit_log.audit(
            session,
            actor=actor,
            action="client.expire",
            subject="client",
            note=f"Recorded intakes older than {days} days were erased (retention).",
            details={"matches": len(ids), "days": days},
        )
    return len(ids)
