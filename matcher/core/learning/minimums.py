"""How much evidence learning needs: checked by pages and services without the learner's imports."""

from __future__ import annotations

__all__ = ["MINIMUM_RATINGS", "MINIMUM_THERAPISTS", "NotEnoughRatings", "check_enough"]

MINIMUM_RATINGS = 30
MINIMUM_THERAPISTS = 5


class NotEnoughRatings(ValueError):
    """Too few rated referrals, or therapists, to learn weights from."""


def check_enough(n_ratings: int, n_therapists: int) -> None:
    """Refuse to learn from fewer than MINIMUM_RATINGS ratings or MINIMUM_THERAPISTS therapists."""
    if n_ratings < MINIMUM_RATINGS or n_therapists < MINIMUM_THERAPISTS:
        raise NotEnoughRatings(
            f"Learning needs at least {MINIMUM_RATINGS} rated referrals from at least "
            f"{MINIMUM_THERAPISTS} therapists; there are {n_ratings} from {n_therapists}."
        )
