"""Queries for the exposure audit: recorded matches' group counts, and their referrals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from matcher.storage.tables import AllianceRating, MatchRecord, Referral, Therapist

_CHUNK = 500


def _window(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(col(MatchRecord.created_at) >= since)
    if until is not None:
        conditions.append(col(MatchRecord.created_at) < until)
    return conditions


def match_counts(
    session: Session, *, since: datetime | None, until: datetime | None
) -> list[dict[str, Any] | None]:
    """Each recorded match's group counts in the window (None: recorded before they were)."""
    rows = session.execute(select(col(MatchRecord.exposure)).where(*_window(since, until)))
    return [row[0] for row in rows]


def referrals_in(
    session: Session, *, since: datetime | None, until: datetime | None
) -> list[tuple[Referral, dict[str, Any], dict[str, Any]]]:
    """Referrals from matches in the window: (referral, the match's intake, the profile)."""
    rows = session.execute(
        select(Referral, col(MatchRecord.intake), col(Therapist.profile))
        .join(MatchRecord, col(MatchRecord.id) == col(Referral.match_id))
        .join(Therapist, col(Therapist.id) == col(Referral.therapist_id))
        .where(*_window(since, until))
        .order_by(col(Referral.id))
    )
    return [(referral, intake, profile) for referral, intake, profile in rows]


def ratings_of_referrals(
    session: Session, *, referral_ids: Sequence[str]
) -> dict[str, list[AllianceRating]]:
    """Each referral's ratings, in session order."""
    found: dict[str, list[AllianceRating]] = {}
    for start in range(0, len(referral_ids), _CHUNK):
        chunk = referral_ids[start : start + _CHUNK]
        rows = session.execute(
            select(AllianceRating)
            .where(col(AllianceRating.referral_id).in_(chunk))
            .order_by(col(AllianceRating.session))
        ).scalars()
        for rating in rows:
            found.setdefault(rating.referral_id, []).append(rating)
    return found


def first_ratings(session: Session) -> dict[str, datetime]:
    """When each therapist's first rating arrived (therapists without: absent)."""
    rows = session.execute(
        select(col(Referral.therapist_id), func.min(col(AllianceRating.created_at)))
        .join(Referral, col(Referral.id) == col(AllianceRating.referral_id))
        .group_by(col(Referral.therapist_id))
    )
    found: dict[str, datetime] = {}
    for therapist_id, first in rows:
        found[str(therapist_id)] = first
    return found
