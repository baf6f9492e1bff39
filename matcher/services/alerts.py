"""Rupture alerts: referrals whose early alliance is weak or falling, until someone resolves them.

SRS: a total below 36 of 40 is the common reading of a concern (Duncan et al. 2003; secondary
source). WAI-SR has no official cut-off (Horvath); ratings pile up at the top of the scale
(Meier & Feeley 2022), so a total below 36 (a mean item under 3 of 5, the scale's middle) sits
far under where early ratings usually are. A latest session a tenth of the instrument's
range or more (WAI-SR 5 points, SRS 4) under the best earlier one is flagged too: ruptures show
as dips, and a dip the client has recovered from raises nothing. Both
thresholds are settings (``MATCHER_WAI_ALERT_BELOW``, ``MATCHER_ALERT_DROP_SHARE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from matcher.core.learning.instruments import INSTRUMENTS
from matcher.services.errors import Invalid
from matcher.services.referrals import find_referral
from matcher.storage.organisations import within
from matcher.storage.tables import AlertResolution, AllianceRating, MatchRecord, Referral
from matcher.storage.types import utcnow

__all__ = ["OUTCOMES", "Alert", "open_alerts", "resolve", "weak_or_falling"]

OUTCOMES = {"repaired": "Repaired", "client_left": "Client left", "other": "Other"}
SRS_BELOW = 36.0
WAI_BELOW = 36.0
DROP_SHARE = 0.1


@dataclass(frozen=True)
class Alert:
    """A referral whose early alliance needs a person's attention, and why."""

    referral: Referral
    client_ref: str | None
    ratings: list[AllianceRating]
    reasons: list[str]


def weak_or_falling(
    ratings: Sequence[AllianceRating], *, wai_below: float = WAI_BELOW, drop: float = DROP_SHARE
) -> list[str]:
    """Why these ratings of one referral raise an alert (empty: no alert)."""
    reasons: list[str] = []
    by_instrument: dict[str, list[AllianceRating]] = {}
    for rating in sorted(ratings, key=lambda r: r.session):
        by_instrument.setdefault(rating.instrument, []).append(rating)
    for code, series in by_instrument.items():
        key, label = INSTRUMENTS[code], code.upper()
        below = SRS_BELOW if code == "srs" else wai_below
        latest = series[-1]
        if latest.total < below:
            reasons.append(
                f"{label} session {latest.session}: total {latest.total:g} is below {below:g}"
            )
        span = key.total_max - key.total_min
        earlier = series[:-1]
        best = max(earlier, key=lambda r: r.total) if earlier else None
        # Falling means the latest session is still well under the best before it; a dip the
        # client has since recovered from raises nothing.
        if best is not None and best.total - latest.total >= drop * span:
            reasons.append(
                f"{label} fell from {best.total:g} (session {best.session}) to "
                f"{latest.total:g} (session {latest.session})"
            )
    return reasons


def open_alerts(
    session: Session,
    *,
    wai_below: float = WAI_BELOW,
    drop: float = DROP_SHARE,
    organisation_id: str | None = None,
) -> list[Alert]:
    """Every unresolved referral of ``organisation_id`` (None: of all) whose ratings are weak
    or falling, most recent rating first."""
    resolved = select(col(AlertResolution.referral_id))
    rows = session.execute(
        select(AllianceRating, Referral, col(MatchRecord.client_ref))
        .join(Referral, col(Referral.id) == col(AllianceRating.referral_id))
        .join(MatchRecord, col(MatchRecord.id) == col(Referral.match_id))
        .where(
            col(Referral.id).not_in(resolved),
            within(col(Referral.organisation_id), organisation_id),
        )
        .order_by(col(AllianceRating.created_at))
    ).all()
    grouped: dict[str, tuple[Referral, str | None, list[AllianceRating]]] = {}
    for rating, referral, client_ref in rows:
        grouped.setdefault(referral.id, (referral, client_ref, []))[2].append(rating)
    alerts = []
    for referral, client_ref, ratings in grouped.values():
        reasons = weak_or_falling(ratings, wai_below=wai_below, drop=drop)
        if reasons:
            alerts.append(Alert(referral, client_ref, ratings, reasons))
    alerts.sort(key=lambda a: max(r.created_at for r in a.ratings), reverse=True)
    return alerts


def resolve(
    session: Session,
    *,
    referral_id: str,
    outcome: str,
    note: str,
    by: str,
    organisation_id: str | None = None,
) -> AlertResolution:
    """Close an alert on a referral of ``organisation_id`` (None: any) with what happened
    (repaired, client left, other) and a note."""
    if outcome not in OUTCOMES:
        raise Invalid("Choose what happened.", {"outcome": ["Choose one."]})
    find_referral(session, referral_id=referral_id, organisation_id=organisation_id)
    existing = session.get(AlertResolution, referral_id)
    resolution = existing or AlertResolution(
        referral_id=referral_id, resolved_by=by, outcome=outcome, resolved_at=utcnow()
    )
    resolution.outcome, resolution.note = outcome, note.strip()[:1000]
    resolution.resolved_by, resolution.resolved_at = by, utcnow()
    session.add(resolution)
    return resolution
