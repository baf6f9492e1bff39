"""Training's last step: learned weights kept on the 0..1 score, held weights untouched."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.scoring import FEATURES
from matcher.services.training import HELD_WEIGHTS, _fit_within_bounds


def test_weights_summing_above_one_are_scaled_but_the_held_alliance_weight_is_kept() -> None:
    coef = np.full(len(FEATURES), 0.15)
    coef[FEATURES.index("alliance")] = HELD_WEIGHTS["alliance"]
    weights, intercept, notes = _fit_within_bounds(coef, 0.4)
    assert weights["alliance"] == HELD_WEIGHTS["alliance"]
    assert sum(weights.values()) == pytest.approx(0.99)
    assert intercept + sum(weights.values()) <= 1.0 + 1e-12
    # The fitted weights keep their proportions.
    fitted = [w for name, w in weights.items() if name != "alliance"]
    assert max(fitted) == pytest.approx(min(fitted))
    assert len(notes) == 2


def test_weights_within_bounds_are_left_alone() -> None:
    coef = np.full(len(FEATURES), 0.02)
    coef[0] = -0.01  # non-negative always
    weights, intercept, notes = _fit_within_bounds(coef, 0.5)
    assert weights[FEATURES[0]] == 0.0
    assert intercept == 0.5 and notes == []
