"""A simulated history for the demo: the simulator's clients played on the demo directory.

So that a new admin has evidence to learn from, ``matcher serve --demo`` plays a few hundred
simulated clients through the real services (recorded matches, referrals that take slots, WAI-SR
and SRS ratings), each marked as simulated: recorded under the key id "simulator", with client
references "sim-000001"... The directory is the one stored; only the hidden truths (each
therapist's effect, each client's) come from the simulator's world (``world``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.lab.simulation.play import KEY_ID, PlayCounts, Progress, play
from matcher.lab.simulation.world import THERAPIST_SD, SimTherapist, World
from matcher.lab.synthetic import REGIONS
from matcher.services.matching import MatchService
from matcher.storage import outcomes, therapists

DEMO_REFERRALS = 300  # about 12 s on SQLite, and some 800 ratings: enough to learn from
EXPLORATION = 0.1  # as the simulator plays: a tenth of lists are shuffled, for learning


@dataclass(frozen=True)
class History:
    """What the demo history added, or why it was skipped."""

    counts: PlayCounts | None
    skipped: str = ""


def play_history(
    service: MatchService,
    *,
    referrals: int = DEMO_REFERRALS,
    seed: int = 2026,
    progress: Progress | None = None,
) -> History:
    """Play ``referrals`` simulated clients on the stored directory; skipped if matches exist."""
    with service.db.session() as session:
        recorded = outcomes.count_matches(session)
        profiles = list(therapists.active_profiles(session))
    if recorded:
        return History(None, f"the database already holds {recorded} recorded matches")
    served = [
        code
        for code in REGIONS
        if any(lic["jurisdiction"] == code for p in profiles for lic in p.get("licenses") or ())
    ]
    if not served:
        return History(None, "no therapist is licensed where the simulator's clients live")
    hidden, clients, choices, policy = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    effects = hidden.normal(0.0, THERAPIST_SD, len(profiles)).tolist()
    world = World(
        profiles=profiles,
        therapists={p["id"]: SimTherapist.of(p, u) for p, u in zip(profiles, effects, strict=True)},
        regions=tuple(REGIONS[code] for code in served),
    )
    counts = play(
        service,
        world,
        referrals=referrals,
        exploration=EXPLORATION,
        clients=clients,
        choices=choices,
        policy=policy,
        progress=progress,
    )
    return History(counts)


__all__ = ["DEMO_REFERRALS", "KEY_ID", "History", "play_history"]
