"""Past referrals a clinic brings along: played in the world, then imported through the service.

Before the service, a clinic's coordinators referred clients by hand. Assumption: to a therapist
drawn at random among those eligible for the intake (the coordinators knew nothing of the
matching features beyond the hard filters), and the client rated sessions 1-3 with early dropout
like any other. The records go in through ``history.validate_history`` and
``history.import_history`` in one transaction, exactly as ``POST /api/v1/history/import``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from matcher.core.scoring import eligible_ids
from matcher.lab.simulation.world import SIMULATED_NOW, World, course
from matcher.schemas.intake import IntakeSchema, normalise
from matcher.services import history
from matcher.services.matching import MatchService

KEY_ID = "simulator-history"


def _as_sent(instrument: str, items: list[float]) -> list[float] | list[int]:
    """Item scores as a client would send them: WAI-SR items are whole numbers."""
    return [int(v) for v in items] if instrument == "wai-sr" else items


def import_past(service: MatchService, world: World, count: int, rng: np.random.Generator) -> int:
    """Draw ``count`` past referrals with their ratings and import them; how many were stored."""
    index, loader = service.snapshot().index, IntakeSchema()
    records: list[dict[str, Any]] = []
    for number in range(count):
        client = world.client(rng)
        ids = eligible_ids(index, normalise(loader.load(client.intake)), now=SIMULATED_NOW)
        if not len(ids):
            continue
        therapist_id = str(ids[int(rng.integers(len(ids)))])
        went = course(rng, client, world.alliance(client, therapist_id), world.truth)
        when = SIMULATED_NOW - timedelta(days=365) + timedelta(hours=number)
        records.append(
            {
                "client_ref": client.ref,
                "intake": client.intake,
                "therapist_id": therapist_id,
                "referred_at": when.isoformat(),
                "ratings": [
                    {"instrument": i, "session": s, "items": _as_sent(i, items)}
                    for s, i, items in went.ratings
                ],
            }
        )
    if not records:
        return 0
    checked = history.validate_history(records)
    with service.db.transaction() as session:
        stored = history.import_history(session, records=checked, matching=service, key_id=KEY_ID)
    return stored["referrals"]
