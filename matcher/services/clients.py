"""A client by their pseudonymous reference: matches, referrals, ratings, and erasure."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlmodel import Session, col

from matcher.storage import model_versions as audit_log
from matcher.storage import outcomes as stored
from matcher.storage.tables import AllianceRating, MatchRecord, Referral, UrgentCase

__all__ = ["ClientHistory", "erase", "history"]


@dataclass(frozen=True)
class ClientHistory:
    """Everything recorded under one client reference, newest match first."""

    client_ref: str
    matches: list[MatchRecord]
    referrals: list[tuple[Referral, list[AllianceRating]]]
    cases: list[UrgentCase]


def history(session: Session, *, client_ref: str) -> ClientHistory:
    """The client's recorded matches, referrals with their ratings, and urgent cases."""
    matches = list(
        session.execute(
            select(MatchRecord)
            .where(col(MatchRecord.client_ref) == client_ref)
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
            .where(col(UrgentCase.client_ref) == client_ref)
            .order_by(col(UrgentCase.created_at).desc())
        ).scalars()
    )
    return ClientHistory(
        client_ref=client_ref,
        matches=matches,
        referrals=[(r, stored.ratings_of(session, referral_id=r.id)) for r in made],
        cases=cases,
    )


def erase(session: Session, *, client_ref: str, actor: str) -> int:
    """Delete every recorded intake under ``client_ref``; how many matches were erased.

    Idempotent. Referrals and ratings stay for learning, with no link left to the reference:
    the match rows keep only the model version and the features learning reads. The audit log
    says an erasure happened, never the reference.
    """
    ids = list(
        session.execute(
            select(col(MatchRecord.id)).where(col(MatchRecord.client_ref) == client_ref)
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
        update(UrgentCase).where(col(UrgentCase.client_ref) == client_ref).values(client_ref=None)
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
