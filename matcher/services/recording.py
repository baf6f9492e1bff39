"""Recording a match: the one path by which the API, the pages and the simulator store one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.services.matching import MatchService, RecordedMatch
from matcher.services.referrals import new_id
from matcher.storage import outcomes as stored
from matcher.storage.tables import MatchRecord
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
) -> tuple[RecordedMatch, str]:
    """Match an intake the caller asked to record, and store it: (what was shown, match id).

    Only what the caller sent is kept: the intake as validated and the opaque ``client_ref``,
    with the model version, the candidates' features at match time and their propensities.
    """
    recorded = matching.match_for_record(
        intake, limit=limit, exploration=exploration, rng=rng, now=now
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
    )
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
