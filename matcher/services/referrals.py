"""Referrals from recorded matches and their early-alliance ratings."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from matcher.core.learning.instruments import score_items
from matcher.core.scoring import FEATURES
from matcher.schemas.outcomes import DECLINE_REASONS
from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.storage import counters
from matcher.storage import outcomes as stored
from matcher.storage.tables import DEFAULT_ORGANISATION, AllianceRating, MatchRecord, Referral
from matcher.storage.types import utcnow

__all__ = [
    "DECLINE_REASONS",
    "AllianceRating",
    "Referral",
    "decline",
    "find_referral",
    "get_referral",
    "new_id",
    "rate",
    "refer",
]


def new_id(prefix: str) -> str:
    """A fresh random id such as ``r-1f2e3d4c5b6a7980``."""
    return f"{prefix}-{secrets.token_hex(8)}"


def refer(
    session: Session,
    *,
    match_id: str,
    therapist_id: str,
    key_id: str,
    organisation_id: str | None = DEFAULT_ORGANISATION,
) -> Referral:
    """Refer the client of a recorded match to one of its eligible therapists (takes a slot).

    The match must be one of ``organisation_id``'s (None: any, for the service's admins); the
    referral belongs to the match's organisation. Another organisation's match is unknown here.
    """
    match = session.get(MatchRecord, match_id)
    if match is None or organisation_id not in (None, match.organisation_id):
        raise Invalid(f"No recorded match {match_id!r}.", {"match_id": ["Unknown match."]})
    kept = stored.candidate(session, match_id=match_id, therapist_id=therapist_id)
    if kept is None:
        raise Invalid(
            f"{therapist_id!r} was not an eligible therapist kept with match {match_id!r}.",
            {"therapist_id": ["Not eligible in that match."]},
        )
    existing = stored.referral_for_pair(session, match_id=match_id, therapist_id=therapist_id)
    if existing is not None:
        raise Conflict(f"Already referred as {existing.id}.")
    therapist = stored.therapist_for_update(session, therapist_id=therapist_id)
    if therapist is None or not therapist.active or not therapist.accepting_new_clients:
        raise Conflict(f"{therapist_id!r} is not taking new clients now.")
    if therapist.capacity <= 0:
        raise Conflict(f"{therapist_id!r} has no open slot left.")
    # The referral takes a slot; every worker's matching index picks it up with the directory
    # revision.
    therapist.capacity -= 1
    therapist.revision = counters.bump(session, name=counters.DIRECTORY)
    therapist.updated_at = utcnow()
    session.add(therapist)
    referral = Referral(
        id=new_id("r"),
        match_id=match_id,
        therapist_id=therapist_id,
        model_version=match.model_version,
        created_at=utcnow(),
        key_id=key_id,
        features={name: float(kept.features[name]) for name in FEATURES if name in kept.features},
        score=kept.score,
        propensity=kept.propensity,
        rank=kept.rank,
        organisation_id=match.organisation_id,
    )
    session.add(referral)
    return referral


def referrals_of_match(
    session: Session, *, match_id: str, organisation_id: str | None = None
) -> list[Referral]:
    """Referrals made from one recorded match, oldest first (within ``organisation_id``)."""
    return [
        r
        for r in stored.referrals_of_match(session, match_id=match_id)
        if organisation_id in (None, r.organisation_id)
    ]


def decline(
    session: Session, *, referral_id: str, reason: str, organisation_id: str | None = None
) -> Referral:
    """The therapist declined the client: the slot comes back, except for lack of space, which
    withdraws their "accepting" confirmation (stale until they confirm again)."""
    if reason not in DECLINE_REASONS:
        raise Invalid(f"Unknown reason {reason!r}.", {"reason": ["Unknown reason."]})
    referral = find_referral(session, referral_id=referral_id, organisation_id=organisation_id)
    if referral.declined_at is not None:
        if referral.decline_reason == reason:
            return referral
        raise Conflict(f"Already declined ({referral.decline_reason}).")
    now = utcnow()
    referral.declined_at, referral.decline_reason = now, reason
    session.add(referral)
    therapist = stored.therapist_for_update(session, therapist_id=referral.therapist_id)
    if therapist is not None:
        if reason == "no_space":
            therapist.accepting_confirmed_at = None
        else:
            therapist.capacity += 1
        therapist.revision = counters.bump(session, name=counters.DIRECTORY)
        therapist.updated_at = now
        session.add(therapist)
    return referral


def find_referral(session: Session, *, referral_id: str, organisation_id: str | None) -> Referral:
    """A referral of ``organisation_id`` (None: any); NotFound otherwise, so another
    organisation's referral looks the same as one that does not exist."""
    referral = session.get(Referral, referral_id)
    if referral is None or organisation_id not in (None, referral.organisation_id):
        raise NotFound(f"No referral {referral_id!r}.")
    return referral


def get_referral(
    session: Session, *, referral_id: str, organisation_id: str | None = None
) -> tuple[Referral, list[AllianceRating]]:
    """A referral with its ratings in session order; NotFound when there is none (within
    ``organisation_id``; None: any)."""
    referral = find_referral(session, referral_id=referral_id, organisation_id=organisation_id)
    return referral, stored.ratings_of(session, referral_id=referral_id)


def _same_items(stored_items: Sequence[float], items: Sequence[float]) -> bool:
    return len(stored_items) == len(items) and all(
        abs(float(a) - float(b)) < 1e-9 for a, b in zip(stored_items, items, strict=True)
    )


def rate(
    session: Session,
    *,
    referral_id: str,
    instrument: str,
    session_number: int,
    items: Sequence[float],
    key_id: str,
    organisation_id: str | None = None,
) -> tuple[AllianceRating, bool]:
    """Store an early-alliance rating: (rating, created). The same one again: the stored one.

    Only a referral of ``organisation_id`` (None: any) is rated; another's is NotFound.
    """
    try:
        scored = score_items(instrument, list(items))
    except ValueError as err:
        raise Invalid(str(err), {"items": [str(err)]}) from err
    find_referral(session, referral_id=referral_id, organisation_id=organisation_id)
    rating = AllianceRating(
        id=new_id("a"),
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
    existing = stored.rating_for(
        session, referral_id=referral_id, instrument=instrument, session_number=session_number
    )
    if existing is None:
        try:
            with session.begin_nested():  # a savepoint: losing a race keeps the transaction
                rating.revision = counters.bump(session, name=counters.ALLIANCE)
                session.add(rating)
            return rating, True
        except IntegrityError:
            # An identical request committed first (PostgreSQL; SQLite writers queue at BEGIN).
            existing = stored.rating_for(
                session,
                referral_id=referral_id,
                instrument=instrument,
                session_number=session_number,
            )
    if existing is not None and _same_items(existing.items, rating.items):
        return existing, False
    raise Conflict(
        f"Session {session_number} already has a different {instrument} rating"
        + (f" ({existing.id})." if existing is not None else ".")
    )
