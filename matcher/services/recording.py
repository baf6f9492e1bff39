"""Recording a match: the one path by which the API, the pages and the simulator store one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.services.errors import NotFound
from matcher.services.matching import MatchService, RecordedMatch, answer
from matcher.services.referrals import new_id
from matcher.storage import outcomes as stored
from matcher.storage.tables import DEFAULT_ORGANISATION, MatchRecord
from matcher.storage.types import utcnow

__all__ = ["LOCATION_DECIMALS", "MatchRecord", "get_match", "record_match", "reduce_intake"]

# Two decimals of a degree is about 1.1 km north-south: enough for the pages to name the
# nearest city and for a re-match or preview to check distance, not enough to find a home.
LOCATION_DECIMALS = 2
# The intake fields a recorded match keeps: the matching query reads each again (re-match,
# relax, the admin's preview of a candidate model) and the results page shows them.
RECORDED_FIELDS = (
    "jurisdiction", "age_group", "concerns", "modalities", "languages", "identities",
    "wants_shared_identity", "therapist_genders", "faith", "formats", "location",
    "max_distance_km", "timezone", "availability", "max_fee", "insurance", "style",
    "must_have", "exclude_therapists",
)  # fmt: skip


def reduce_intake(intake: Mapping[str, Any]) -> dict[str, Any]:
    """What a recorded match keeps of an intake: only the answers given (no empty or default
    values), only fields something reads again, and the location coarsened to about 1 km."""
    kept = {
        name: intake[name]
        for name in RECORDED_FIELDS
        if intake.get(name) not in (None, [], {}, False, "")
    }
    location = kept.get("location")
    if location:
        kept["location"] = {
            "lat": round(float(location["lat"]), LOCATION_DECIMALS),
            "lon": round(float(location["lon"]), LOCATION_DECIMALS),
        }
    return kept


def record_match(
    session: Session,
    *,
    matching: MatchService,
    intake: Mapping[str, Any],
    limit: int,
    client_ref: str | None,
    key_id: str,
    exploration: float,
    rng: np.random.Generator,
    now: datetime | None = None,
    rematch_of: str | None = None,
    organisation_id: str = DEFAULT_ORGANISATION,
    chosen: str | None = None,
    exploration_policy: str = "uniform",
) -> tuple[RecordedMatch, str]:
    """Match an intake the caller asked to record, and store it: (what was shown, match id).

    Only what the caller sent is kept, in the caller's organisation: the intake reduced to
    what is read again (``reduce_intake``) and the opaque ``client_ref``, with the model
    version, the candidates' features at match time and their propensities.
    """
    recorded = matching.match_for_record(
        intake,
        limit=limit,
        exploration=exploration,
        rng=rng,
        now=now,
        chosen=chosen,
        exploration_policy=exploration_policy,
    )
    record = MatchRecord(
        id=new_id("m"),
        created_at=utcnow(),
        key_id=key_id,
        client_ref=client_ref,
        model_version=recorded.snapshot.weights.version,
        intake=reduce_intake(intake),
        limit=limit,
        eligible=recorded.outcome.eligible,
        exploration=recorded.explored,
        feature_means=recorded.feature_means,
        rematch_of=rematch_of,
        organisation_id=organisation_id,
        exposure=recorded.exposure,
    )
    record.results = answer(recorded.outcome, recorded.snapshot.weights, record.id)
    rows = [
        {
            "therapist_id": c.therapist_id,
            "rank": c.rank,
            "score": c.score,
            "propensity": c.propensity,
            "features": c.features,
            "exploration_propensity": c.exploration_propensity,
        }
        for c in recorded.candidates
    ]
    stored.add_match(session, record=record, candidates=rows)
    return recorded, record.id


def get_match(
    session: Session, *, match_id: str, organisation_id: str | None = None
) -> MatchRecord:
    """A recorded match; NotFound when there is none (within ``organisation_id``; None: any)."""
    record = session.get(MatchRecord, match_id)
    if record is None or organisation_id not in (None, record.organisation_id):
        raise NotFound(f"No recorded match {match_id!r}.")
    return record
