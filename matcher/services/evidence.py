"""What there is to learn from: rated referrals, therapists, and how much of it is simulated."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from matcher.core.learning.minimums import MINIMUM_RATINGS, MINIMUM_THERAPISTS
from matcher.services import training
from matcher.storage import outcomes as stored

# The key id the simulator records under (matcher.lab.simulation.play.KEY_ID): services do not
# import the lab, so the name is repeated here and a test holds the two together.
SIMULATOR_KEY = "simulator"


@dataclass(frozen=True)
class Evidence:
    """The ratings learning would use, counted as ``training.learn`` counts them."""

    rated_referrals: int
    therapists: int
    ratings: int
    recorded_matches: int
    simulated_matches: int

    @property
    def referrals_needed(self) -> int:
        """More rated referrals needed before learning is allowed."""
        return max(0, MINIMUM_RATINGS - self.rated_referrals)

    @property
    def therapists_needed(self) -> int:
        """More rated therapists needed before learning is allowed."""
        return max(0, MINIMUM_THERAPISTS - self.therapists)

    @property
    def enough(self) -> bool:
        """Whether learning would be allowed."""
        return not (self.referrals_needed or self.therapists_needed)


def evidence(session: Session) -> Evidence:
    """Count what learning would read now."""
    data = training.training_data(session)
    return Evidence(
        rated_referrals=len(data.alliance),
        therapists=len(set(data.therapists.tolist())),
        ratings=data.n_ratings,
        recorded_matches=stored.count_matches(session),
        simulated_matches=stored.count_matches(session, key_id=SIMULATOR_KEY),
    )
