"""The shared pieces features are built from: discounts by choice and the best choice hit."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.scoring.feature import best_ranked, first_hit, rank_discount, rank_quarters


def test_quarters_are_the_discounts() -> None:
    assert [rank_quarters(i) for i in range(7)] == [4, 3, 2, 1, 1, 1, 1]
    assert all(rank_discount(i) == rank_quarters(i) / 4 for i in range(7))


@pytest.mark.parametrize("choices", range(7))
def test_first_hit_is_the_discount_of_the_first_choice_hit(choices: int) -> None:
    rng = np.random.default_rng(choices)
    hits = [rng.random(500) < 0.4 for _ in range(choices)]
    got = first_hit(hits, 500)
    assert got.dtype == np.float64 and got.shape == (500,)
    # As best_ranked values any hits (a float max), and as a client reads it, row by row.
    assert np.array_equal(got, best_ranked(hits, 500))
    for row in range(500):
        first = next((i for i, hit in enumerate(hits) if hit[row]), None)
        assert got[row] == (0.0 if first is None else rank_discount(first))
