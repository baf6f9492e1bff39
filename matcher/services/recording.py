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
from matcher.storage.tables import MatchRecord

__all__ = ["MatchRecord", "get_match", "record_match"]
from matcher.storage.types import utcnow


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
    chosen: str | None = None,
) -> tuple[RecordedMatch, str]:
    """Match an intake the caller asked to record, and store it: (what was shown, match id).

    Only what the caller sent is kept: the intake as validated and the opaque ``client_ref``,
    with the model version, the candidates' features at match time and their propensities.
    """
    recorded = matching.match_for_record(
        intake, limit=limit, exploration=exploration, rng=rng, now=now, chosen=chosen
    )
    record = MatchRecord(
        id=new_id("m"),
        created_at=utcnow(),
        key_id=key_id,
        client_ref=client_ref,
        model_version=recorded.snapshot.weights.version,
        intake=dict(intake),
        limit=limit,
        eligible=recorded.outcome.eligible,
        exploration=recorded.explored,
        feature_means=recorded.feature_means,
        rematch_of=rematch_of,
    )
    record.results = answer(recorded.outcome, recorded.snapshot.weights, record.id)
    rows = [
        {
            "therapist_id": c.therapist_id,
            "rank": c.rank,
            "score": c.score,
            "propensity": c.propensity,
            "features": c.features,
        }
        for c in recorded.candidates
    ]
    stored.add_match(session, record=record, candidates=rows)
    return recorded, record.id


def get_match(session: Session, *, match_id: str) -> MatchRecord:
    """A recorded match; NotFound when there is none."""
    record = session.get(MatchRecord, match_id)
    if record is None:
        raise NotFound(f"No recorded match {match_id!r}.")
    return record
