"""One alliance scale for every instrument: normal scores within each instrument."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.learning.scale import CENTRE, SPREAD, normal_scores, referral_alliance


def test_instruments_share_one_scale() -> None:
    # SRS marks sit far above WAI-SR scores on the contract's 0..1 scale; ranks are what count.
    wai = [0.55, 0.70, 0.80, 0.95]
    srs = [0.80, 0.88, 0.93, 0.99]
    common = normal_scores(["wai-sr"] * 4 + ["srs"] * 4, wai + srs)
    assert common[:4] == pytest.approx(common[4:])
    assert common.mean() == pytest.approx(CENTRE)
    assert list(np.argsort(common[:4])) == [0, 1, 2, 3]


def test_the_ceiling_is_stretched_and_ties_share_a_value() -> None:
    rng = np.random.default_rng(0)
    # Piled at the top: a third of ratings at the maximum, as with WAI-SR items at 5.
    scores = np.concatenate([rng.uniform(0.4, 0.95, 200), np.ones(100)])
    common = normal_scores(["wai-sr"] * 300, scores)
    assert len(set(common[200:].tolist())) == 1  # every maximum rating gets the same value
    assert common[200] > common[:200].max()
    # Normal scores: about one SPREAD per standard deviation, centred on CENTRE.
    assert common.std() == pytest.approx(SPREAD, rel=0.1)


def test_a_referral_averages_its_sessions() -> None:
    referrals, therapists = ["r-2", "r-1", "r-2", "r-2"], ["t-b", "t-a", "t-b", "t-b"]
    rated = referral_alliance(referrals, therapists, ["srs"] * 4, [0.5, 0.6, 0.7, 0.9])
    assert rated.referral_ids.tolist() == ["r-1", "r-2"]
    assert rated.therapist_ids.tolist() == ["t-a", "t-b"]
    assert rated.ratings.tolist() == [1, 3]
    each = normal_scores(["srs"] * 4, [0.5, 0.6, 0.7, 0.9])
    assert rated.mean == pytest.approx([each[1], (each[0] + each[2] + each[3]) / 3])


@pytest.mark.parametrize(
    ("instruments", "scores"),
    [(["srs"], [0.5, 0.6]), (["srs"], [float("nan")]), (["srs", "srs"], [[0.5], [0.6]])],
)
def test_bad_inputs_are_refused(instruments: list[str], scores: list[float]) -> None:
    with pytest.raises(ValueError):
        normal_scores(instruments, scores)
