"""Availability that stays true: stale "accepting" flags, confirmations and signed answer links.

A therapist listed as accepting is stale when that was last confirmed more than
``MATCHER_STALE_AFTER_DAYS`` ago, never, or not since they declined a referral for lack of
space. A match flags stale therapists in their reasons, ranks them after fresh ones, or
excludes them (``MATCHER_STALE_POLICY``), as one mask over the eligible rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from matcher.core.scoring import (
    ClientQuery,
    Evaluation,
    MatchOutcome,
    Screening,
    WeightSet,
    screen,
    shortlist,
    top,
)
from matcher.core.scoring.index import Bools, Floats, Rows
from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.tables import Therapist
from matcher.storage.types import utcnow

__all__ = ["Freshness", "LinkClaim", "Therapist", "confirm", "link_expiry", "verify"]

STALE_POLICIES = ("flag", "rank_after", "exclude")
ANSWERS = ("yes", "no", "full")
# Purpose-bound: a token signed for anything else with the same secret never verifies here.
LINK_SALT = "matcher.availability-answer.v1"


@dataclass(frozen=True)
class Freshness:
    """When an "accepting" goes stale, and what a match does with stale therapists."""

    stale_after_days: int = 45
    policy: str = "flag"

    def cutoff(self, now: datetime) -> datetime:
        """Confirmations older than this are stale."""
        return now - timedelta(days=self.stale_after_days)


def stale_rows(index: Any, rows: Rows, now: datetime, freshness: Freshness) -> Bools:
    """Whether each of ``rows`` is stale (never confirmed reads as NaN: stale)."""
    confirmed = index.column("confirmed_at").take(rows)
    return np.asarray(~(confirmed >= freshness.cutoff(now).timestamp()), dtype=np.bool_)


def policy_order(score: Floats, stale: Bools, limit: int, freshness: Freshness) -> Rows:
    """The positions to show of every eligible therapist scored: the top ``limit`` by score,
    stale therapists after every fresh one under "rank_after"."""
    if freshness.policy == "rank_after" and stale.any():
        # Fresh before stale, then by score, then by position: compared, not penalised, since
        # subtracting a penalty rounds away the last bits that tell two close scores apart
        # (the pruned path compares them exactly).
        order = np.lexsort((np.arange(len(score)), -score, stale))
        return order[: max(limit, 0)]
    return top(score, limit)


def _within(screening: Screening, keep: Bools) -> Screening:
    """The screening narrowed to the eligible rows ``keep`` marks."""
    return screening.narrowed(keep)


def _joined(first: Evaluation, then: Evaluation) -> Evaluation:
    """Two evaluations of one intake as one, ``first``'s rows before ``then``'s."""
    rows = np.concatenate([first.screening.rows, then.screening.rows])
    return replace(
        first,
        screening=replace(first.screening, rows=rows),
        values=np.concatenate([first.values, then.values]),
        score=np.concatenate([first.score, then.score]),
    )


def screened(
    index: Any, q: ClientQuery, when: datetime, limit: int, freshness: Freshness
) -> tuple[Screening, Bools]:
    """The hard filters, then the policy's exclusion: (the screening; which eligible are stale)."""
    screening = screen(index, q, when, limit=limit)
    stale = stale_rows(index, screening.rows, when, freshness)
    if freshness.policy == "exclude" and stale.any():
        excluded = dict(screening.excluded, stale=int(stale.sum()))
        screening = replace(_within(screening, ~stale), excluded=excluded)
        stale = stale[~stale]
    return screening, stale


def policy_top(
    index: Any,
    q: ClientQuery,
    screening: Screening,
    stale: Bools,
    weights: WeightSet,
    when: datetime,
    limit: int,
    freshness: Freshness,
) -> tuple[Evaluation, Rows, Bools]:
    """The policy's top ``limit`` of a screening: (the contenders' evaluation; the positions to
    show in it; which contenders are stale). Under "rank_after" the fresh therapists' top comes
    first and stale ones fill what is left."""
    if freshness.policy == "rank_after" and stale.any():
        evaluation = shortlist(index, q, _within(screening, ~stale), weights, when, limit)
        shown = top(evaluation.score, limit)
        fresh_count, rest = len(evaluation.score), limit - len(shown)
        later = shortlist(index, q, _within(screening, stale), weights, when, max(rest, 0))
        evaluation = _joined(evaluation, later)
        shown = np.concatenate([shown, fresh_count + top(later.score, rest)])
        return evaluation, shown, np.arange(len(evaluation.score)) >= fresh_count
    evaluation = shortlist(index, q, screening, weights, when, limit)
    stale = stale_rows(index, evaluation.screening.rows, when, freshness)
    return evaluation, top(evaluation.score, limit), stale


def shortlisted(
    index: Any,
    intake: Mapping[str, Any],
    weights: WeightSet,
    limit: int,
    when: datetime,
    freshness: Freshness,
) -> tuple[Evaluation, Rows, Bools, int]:
    """The policy applied to a pruned match: (the contenders' evaluation; the positions to
    show; which contenders are stale; how many therapists are eligible).

    The same results as ``policy_order`` over every eligible therapist scored, for less work:
    only the therapists who can still make the shown top are scored in full (``shortlist``).
    """
    q = ClientQuery.from_intake(intake)
    if freshness.policy == "flag":
        # Stale therapists rank by score and are only marked: the contenders' mask will do.
        screening = screen(index, q, when, limit=limit)
        stale = np.zeros(0, dtype=np.bool_)
    else:
        screening, stale = screened(index, q, when, limit, freshness)
    evaluation, shown, stale = policy_top(
        index, q, screening, stale, weights, when, limit, freshness
    )
    return evaluation, shown, stale, len(screening.rows)


def stale_reason(confirmed: float, freshness: Freshness) -> str:
    """The plain reason a stale therapist's result carries."""
    if np.isnan(confirmed):
        return "Has not confirmed accepting new clients: check before referring"
    day = datetime.fromtimestamp(confirmed, UTC).date().isoformat()
    return (
        f"Accepting new clients last confirmed {day}, over {freshness.stale_after_days} days "
        "ago: check before referring"
    )


def explained(
    outcome: MatchOutcome,
    evaluation: Evaluation,
    positions: Rows,
    stale: Bools,
    freshness: Freshness,
) -> MatchOutcome:
    """Results carrying ``accepting_confirmed_at``, and a reason where stale."""
    rows = evaluation.screening.rows[positions]
    confirmed = evaluation.index.column("confirmed_at").take(rows).tolist()
    for result, when, is_stale in zip(
        outcome.results, confirmed, stale[positions].tolist(), strict=True
    ):
        # The results are this match's own, just made: filled in place (no copies).
        if when == when:  # not NaN
            result.accepting_confirmed_at = datetime.fromtimestamp(when, UTC).isoformat()
        if is_stale:
            result.reasons.append(stale_reason(when, freshness))
    return outcome


def _touch(session: Session, therapist: Therapist, now: datetime) -> None:
    """Every worker's matching index picks the change up with the directory revision."""
    therapist.revision = counters.bump(session, name=counters.DIRECTORY)
    therapist.updated_at = now
    session.add(therapist)


def _set_accepting(therapist: Therapist, accepting: bool) -> None:
    therapist.accepting_new_clients = accepting
    therapist.profile = dict(therapist.profile, accepting_new_clients=accepting)


def confirm(session: Session, *, therapist_id: str, now: datetime | None = None) -> Therapist:
    """The therapist still accepts new clients: confirmed now."""
    now = now or utcnow()
    therapist = stored.get(session, therapist_id=therapist_id)
    if therapist is None:
        raise NotFound(f"No therapist {therapist_id!r}.")
    if not therapist.active:
        raise Conflict(f"{therapist_id!r} is deactivated; write the profile to bring it back.")
    _set_accepting(therapist, True)
    therapist.accepting_confirmed_at = now
    therapist.full_until = None
    _touch(session, therapist, now)
    return therapist


def withdraw_confirmation(session: Session, *, therapist: Therapist) -> None:
    """A decline for lack of space: "accepting" is stale until confirmed again."""
    if therapist.accepting_confirmed_at is not None:
        therapist.accepting_confirmed_at = None
        _touch(session, therapist, utcnow())


def stale_therapists(
    session: Session, *, freshness: Freshness, now: datetime | None = None, limit: int = 200
) -> tuple[list[Therapist], int]:
    """Active therapists to ask again: stale "accepting", or past their "full until"."""
    now = now or utcnow()
    return stored.stale(session, cutoff=freshness.cutoff(now), now=now, limit=limit)


# Signed links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkClaim:
    """What a verified availability link says: whose, and when it was issued."""

    therapist_id: str
    issued_at: datetime


def link_expiry(days: int) -> datetime:
    """When a link issued now stops working."""
    return utcnow() + timedelta(days=days)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=LINK_SALT)


def _binding(therapist: Therapist) -> str:
    """The therapist's current answer state: any later answer invalidates older links."""
    answered = therapist.availability_answered_at
    return answered.isoformat() if answered is not None else "-"


def link_token(session: Session, *, secret: str, therapist_id: str) -> str:
    """A signed token for one therapist's availability answer, valid until they answer."""
    therapist = stored.get(session, therapist_id=therapist_id)
    if therapist is None:
        raise NotFound(f"No therapist {therapist_id!r}.")
    return token_for(therapist, secret=secret)


def token_for(therapist: Therapist, *, secret: str) -> str:
    """A signed token for a therapist already loaded."""
    return _serializer(secret).dumps({"t": therapist.id, "a": _binding(therapist)})


def verify(
    session: Session, *, secret: str, token: str, max_age_days: int
) -> tuple[Therapist, LinkClaim]:
    """The therapist a link is for; Invalid when forged, expired, or used up by an answer."""
    try:
        payload, issued = _serializer(secret).loads(
            token, max_age=max_age_days * 86400, return_timestamp=True
        )
    except SignatureExpired as err:
        raise Invalid("This link has expired.", {"token": ["Expired."]}) from err
    except BadSignature as err:
        raise Invalid("This link is not valid.", {"token": ["Not a valid link."]}) from err
    therapist = stored.get(session, therapist_id=str(payload.get("t")))
    if therapist is None or not therapist.active:
        raise NotFound("This link is for a therapist no longer listed.")
    if payload.get("a") != _binding(therapist):
        raise Invalid(
            "This link was already used: an answer came after it was sent.",
            {"token": ["Already used."]},
        )
    return therapist, LinkClaim(therapist.id, issued.astimezone(UTC))


def answer_yes(session: Session, *, therapist: Therapist, claim: LinkClaim) -> bool:
    """A "yes" from a link: confirms once per link (True), later visits change nothing.

    A "yes" only confirms what the link says, so a mail scanner fetching it does no harm; it
    leaves the link's "no" and "full until" usable, which a scanner's fetch must not use up.
    """
    confirmed = therapist.accepting_confirmed_at
    if therapist.accepting_new_clients and confirmed is not None and confirmed >= claim.issued_at:
        return False
    confirm(session, therapist_id=therapist.id)
    return True


def answer_no(session: Session, *, therapist: Therapist, until: date | None = None) -> None:
    """Not accepting new clients (until a date, when given): the link is used up."""
    now = utcnow()
    if until is not None and until <= now.date():
        raise Invalid(
            "Give a date after today.",
            {"until": ["Enter a date after today: when you expect to take new clients again."]},
        )
    _set_accepting(therapist, False)
    therapist.full_until = (
        datetime(until.year, until.month, until.day, tzinfo=UTC) if until is not None else None
    )
    therapist.availability_answered_at = now
    _touch(session, therapist, now)
