"""The exposure audit: does every group of therapists get its share of the first page, and does
the service serve every group of clients equally well?

Each recorded match keeps, per therapist group, how many were eligible and how many were in the
top 5 shown (counts only). A group's eligible share is its eligible slots over all eligible
slots in the window; its exposure share the same over top-5 slots. An exposure share under 0.8
of the eligible share is flagged (the four-fifths rule, as a reference point).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from matcher.core.scoring import TherapistIndex
from matcher.core.scoring.index import Bools, Rows
from matcher.services.alerts import weak_or_falling
from matcher.storage import exposure as stored
from matcher.storage.tables import AllianceRating

FOUR_FIFTHS = 0.8
# Therapist groups, in the order the audit lists them.
THERAPIST_DIMENSIONS = ("experience", "identity", "gender", "jurisdiction")
CLIENT_DIMENSIONS = ("jurisdiction", "age_group", "language", "identity")


def _count(counts: dict[str, int], dimension: str, values: Iterable[str], n: Iterable[int]) -> None:
    for value, k in zip(values, n, strict=True):
        if k:
            counts[f"{dimension}:{value}"] = counts.get(f"{dimension}:{value}", 0) + int(k)


def group_counts(
    index: TherapistIndex, rows: Rows, rated: Bools | None, jurisdiction: str | None
) -> dict[str, int]:
    """How many of ``rows`` fall in each therapist group (``rated``: a mask over the index's
    rows of therapists with ratings; one vectorised pass per dimension)."""
    counts: dict[str, int] = {}
    if not len(rows):
        return counts
    established = int(np.count_nonzero(rated.take(rows))) if rated is not None else 0
    _count(counts, "experience", ("new", "established"), (len(rows) - established, established))
    _count(counts, "identity", index.table("identities").codes, index.tally("identities", rows))
    genders = index.table("gender").codes
    # Shifted by one, so a gender not stated (-1) is counted first: one histogram for both.
    tallied = np.bincount(
        np.asarray(index.column("gender")).take(rows).astype(np.intp) + 1,
        minlength=len(genders) + 1,
    ).tolist()
    _count(counts, "gender", genders, tallied[1:])
    _count(counts, "gender", ("unstated",), tallied[:1])
    _count(counts, "jurisdiction", (jurisdiction or "unknown",), (len(rows),))
    return counts


def exposure_counts(
    index: TherapistIndex,
    eligible: Rows,
    top: Rows,
    rated: Bools | None,
    jurisdiction: str | None,
) -> dict[str, dict[str, int]]:
    """What a recorded match keeps for the audit: group counts of the eligible and the top 5."""
    return {
        "eligible": group_counts(index, eligible, rated, jurisdiction),
        "top5": group_counts(index, top, rated, jurisdiction),
    }


@dataclass
class _Tally:
    eligible: int = 0
    top5: int = 0
    alliance: list[float] | None = None
    alerts: int = 0

    def add_referral(self, alliance: float, alert: bool) -> None:
        self.alliance = [*(self.alliance or []), alliance]
        self.alerts += int(alert)


def _mean(values: list[float] | None) -> float | None:
    return float(np.mean(values)) if values else None


def _split(group: str) -> tuple[str, str]:
    dimension, _, value = group.partition(":")
    return dimension, value


def _order(group: str, dimensions: tuple[str, ...]) -> tuple[int, str]:
    dimension, value = _split(group)
    return (dimensions.index(dimension) if dimension in dimensions else 99, value)


def therapist_groups(profile: Mapping[str, Any], jurisdiction: str, new: bool) -> list[str]:
    """The groups a referred therapist counts in (as a recorded match counts them)."""
    groups = [f"experience:{'new' if new else 'established'}"]
    groups += [f"identity:{code}" for code in profile.get("identities") or ()]
    groups.append(f"gender:{profile.get('gender') or 'unstated'}")
    groups.append(f"jurisdiction:{jurisdiction}")
    return groups


def client_groups(intake: Mapping[str, Any]) -> list[str]:
    """The groups a client counts in, from what their intake said (nothing else is known)."""
    groups = [f"jurisdiction:{intake.get('jurisdiction') or 'unknown'}"]
    groups.append(f"age_group:{intake.get('age_group') or 'unstated'}")
    groups += [f"language:{code}" for code in intake.get("languages") or ()]
    groups += [f"identity:{code}" for code in intake.get("identities") or ()]
    return groups


def _alliance(ratings: list[AllianceRating]) -> float:
    """A referral's early alliance: the mean 0..1 score of its rated sessions."""
    return float(np.mean([r.score for r in ratings]))


def audit(
    session: Any,
    *,
    since: datetime | None,
    until: datetime | None,
    wai_below: float,
    drop: float,
) -> dict[str, Any]:
    """The exposure audit over recorded matches made in [since, until)."""
    # A window that ends before it starts holds no match: an empty audit, not an error.
    therapists: dict[str, _Tally] = defaultdict(_Tally)
    counted = uncounted = with_new = new_in_top = 0
    for counts in stored.match_counts(session, since=since, until=until):
        if counts is None:
            uncounted += 1
            continue
        counted += 1
        for group, n in counts.get("eligible", {}).items():
            therapists[group].eligible += int(n)
        for group, n in counts.get("top5", {}).items():
            therapists[group].top5 += int(n)
        with_new += int(counts.get("eligible", {}).get("experience:new", 0) > 0)
        new_in_top += int(counts.get("top5", {}).get("experience:new", 0) > 0)
    referrals = stored.referrals_in(session, since=since, until=until)
    ratings = stored.ratings_of_referrals(session, referral_ids=[r.id for r, _, _ in referrals])
    first = stored.first_ratings(session)
    clients: dict[str, _Tally] = defaultdict(_Tally)
    for referral, intake, profile in referrals:
        rated = ratings.get(referral.id)
        if not rated:
            continue
        alliance = _alliance(rated)
        alert = bool(weak_or_falling(rated, wai_below=wai_below, drop=drop))
        earliest = first.get(referral.therapist_id)
        new = earliest is None or earliest >= referral.created_at
        jurisdiction = str(intake.get("jurisdiction") or "unknown")
        for group in therapist_groups(profile, jurisdiction, new):
            therapists[group].add_referral(alliance, alert)
        for group in client_groups(intake):
            clients[group].add_referral(alliance, alert)
    all_eligible = sum(t.eligible for g, t in therapists.items() if g.startswith("jurisdiction:"))
    all_top5 = sum(t.top5 for g, t in therapists.items() if g.startswith("jurisdiction:"))
    therapist_rows = []
    for group in sorted(therapists, key=lambda g: _order(g, THERAPIST_DIMENSIONS)):
        tally = therapists[group]
        eligible_share = tally.eligible / all_eligible if all_eligible else None
        top5_share = tally.top5 / all_top5 if all_top5 else None
        ratio = top5_share / eligible_share if eligible_share and top5_share is not None else None
        dimension, value = _split(group)
        therapist_rows.append(
            {
                "group": group,
                "dimension": dimension,
                "value": value,
                "eligible_slots": tally.eligible,
                "eligible_share": eligible_share,
                "top5_slots": tally.top5,
                "top5_share": top5_share,
                "exposure_ratio": ratio,
                "under_four_fifths": ratio is not None and ratio < FOUR_FIFTHS,
                "rated_referrals": len(tally.alliance or []),
                "mean_alliance": _mean(tally.alliance),
            }
        )
    client_rows = []
    for group in sorted(clients, key=lambda g: _order(g, CLIENT_DIMENSIONS)):
        tally = clients[group]
        dimension, value = _split(group)
        n = len(tally.alliance or [])
        client_rows.append(
            {
                "group": group,
                "dimension": dimension,
                "value": value,
                "rated_referrals": n,
                "mean_alliance": _mean(tally.alliance),
                "alert_share": tally.alerts / n if n else None,
            }
        )
    return {
        "since": since,
        "until": until,
        "matches": counted,
        "matches_without_counts": uncounted,
        "eligible_slots": all_eligible,
        "top5_slots": all_top5,
        "new_therapists": {
            "matches_with_new_eligible": with_new,
            "matches_with_new_in_top5": new_in_top,
            "share_reaching_top5": new_in_top / with_new if with_new else None,
        },
        "therapist_groups": therapist_rows,
        "client_groups": client_rows,
    }
