"""How much evidence learning needs, and that checking it does not load the learner."""

from __future__ import annotations

import subprocess
import sys

import pytest

from matcher.core.learning.minimums import (
    MINIMUM_RATINGS,
    MINIMUM_THERAPISTS,
    NotEnoughRatings,
    check_enough,
)


def test_check_enough_refuses_too_few_ratings_or_therapists() -> None:
    check_enough(MINIMUM_RATINGS, MINIMUM_THERAPISTS)
    with pytest.raises(NotEnoughRatings, match="at least 30 rated referrals"):
        check_enough(MINIMUM_RATINGS - 1, 10)
    with pytest.raises(ValueError, match="there are 100 from 4"):
        check_enough(100, MINIMUM_THERAPISTS - 1)


def test_a_server_that_matches_does_not_load_the_learners_libraries() -> None:
    """The app and a match load neither scikit-learn nor pandas, altair or OR-Tools (they cost
    a worker about 200 MB); training, the admin's charts and the waitlist import them."""
    code = (
        "import sys\n"
        "from matcher.app import create_app\n"
        "from matcher.config import Settings\n"
        "app = create_app(Settings(database_url='sqlite://', secret_key='x'))\n"
        "print(sorted(m for m in ('sklearn', 'pandas', 'altair', 'ortools') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")[-2]
    assert found == "[]"
