"""Evaluation of a learned candidate: held-out metrics, calibration, intervals, warnings."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from scipy.stats import spearmanr

from matcher.core.learning.evaluation import (
    calibration,
    evaluate,
    heldout_metrics,
    within_therapist_spearman,
)
from matcher.core.learning.minimums import NotEnoughRatings
from matcher.core.scoring import FEATURES
from tests.core.learning.test_learner import TRUE_COEF, TRUE_INTERCEPT, simulate

FAST = {"n_bootstrap": 50}


def _evaluate(x: np.ndarray, y: np.ndarray, therapist: np.ndarray, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "active_coef": np.full(len(FEATURES), 0.03),
        "active_intercept": 0.55,
        "learner_params": FAST,
    }
    options.update(kwargs)
    return evaluate(x, y, groups=therapist, **options)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    x, y, therapist = simulate(4_000, 150, seed=20)
    return _evaluate(x, y, therapist)


def test_the_report_is_plain_json(report: dict[str, Any]) -> None:
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert report["n_ratings"] == 4_000
    assert report["n_therapists"] == 150


def test_the_learned_model_beats_a_poor_active_model_held_out(report: dict[str, Any]) -> None:
    learned, active = report["heldout"]["learned"], report["heldout"]["active"]
    assert learned["rmse"] < active["rmse"]
    assert learned["mae"] < active["mae"]
    assert learned["spearman"] > active["spearman"] > 0
    assert learned["spearman_within_therapist"] > 0
    assert learned["therapists_ranked"] == 150
    assert not any("not better" in w for w in report["warnings"])


def test_calibration_has_ten_deciles_covering_every_rating(report: dict[str, Any]) -> None:
    for model in ("learned", "active"):
        rows = report["calibration"][model]
        assert [r["decile"] for r in rows] == list(range(1, 11))
        assert sum(r["n"] for r in rows) == 4_000
        predicted = [r["mean_predicted"] for r in rows]
        assert predicted == sorted(predicted)
    # The learned model is calibrated: each decile's mean prediction is close to what was seen.
    for r in report["calibration"]["learned"]:
        assert r["mean_predicted"] == pytest.approx(r["mean_observed"], abs=0.02)


def test_every_weight_has_an_interval_around_it(report: dict[str, Any]) -> None:
    intervals = report["coef_interval"]
    assert list(intervals) == list(FEATURES)
    for name, truth in zip(FEATURES, TRUE_COEF, strict=True):
        entry = intervals[name]
        assert entry["low"] <= entry["weight"] <= entry["high"]
        assert entry["weight"] == pytest.approx(report["learned"]["weights"][name])
        assert entry["weight"] == pytest.approx(truth, abs=0.03)
    assert report["learned"]["intercept"] == pytest.approx(TRUE_INTERCEPT, abs=0.03)


def test_few_ratings_and_therapists_are_warned_about() -> None:
    x, y, therapist = simulate(60, 8, seed=21)
    warnings = _evaluate(x, y, therapist)["warnings"]
    assert any("Only 60 rated referrals" in w for w in warnings)
    assert any("only 8 therapists" in w for w in warnings)
    assert all(w.endswith(".") for w in warnings)


def test_pinned_and_uncertain_weights_are_warned_about() -> None:
    coef = TRUE_COEF.copy()
    coef[4] = -0.05  # faith: a harmful feature is pinned at 0
    coef[7] = 0.005  # gender: too small to pin down
    x, y, therapist = simulate(3_000, 100, seed=22, coef=coef)
    report = _evaluate(x, y, therapist)
    pinned = next(w for w in report["warnings"] if w.startswith("Weights pinned at 0"))
    assert "faith" in pinned
    wide = next(w for w in report["warnings"] if "wider than the weight" in w)
    assert "gender" in wide and "language" not in wide


def test_an_overfitted_candidate_that_loses_to_the_active_model_is_warned_about() -> None:
    x, y, therapist = simulate(100, 20, seed=23)
    report = _evaluate(
        x,
        y,
        therapist,
        active_coef=TRUE_COEF,
        active_intercept=TRUE_INTERCEPT,
        learner_params={"alphas": [1e-6], "n_bootstrap": 0},  # no shrinkage: 11 weights, 100 rows
    )
    assert report["heldout"]["learned"]["rmse"] > report["heldout"]["active"]["rmse"]
    not_better = "The learned model is not better than the active model on held-out error."
    assert not_better in report["warnings"]
    assert all(entry["low"] is None for entry in report["coef_interval"].values())


def test_uneven_propensity_weights_are_warned_about() -> None:
    x, y, therapist = simulate(2_000, 100, seed=24)
    weight = np.where(np.arange(2_000) < 100, 50.0, 1.0)  # a few rows carry most of the weight
    report = _evaluate(x, y, therapist, sample_weight=weight)
    assert report["effective_sample_size"] < 1_000
    assert any("Propensity weights are very uneven" in w for w in report["warnings"])


def test_scores_that_could_leave_0_to_1_are_warned_about() -> None:
    x, y, therapist = simulate(2_000, 100, seed=25, intercept=0.7, coef=TRUE_COEF * 1.5)
    report = _evaluate(x, y, therapist)
    assert any("exceeds 1" in w for w in report["warnings"])


def test_within_therapist_spearman_matches_scipy_per_therapist() -> None:
    rng = np.random.default_rng(26)
    therapist = rng.integers(0, 30, 400)
    observed = rng.integers(0, 5, 400).astype(float)  # ties, as ordinal ratings have
    predicted = observed + rng.normal(0, 2, 400)
    predicted[therapist == 3] = 0.5  # constant predictions: rho undefined, left out
    value, counted = within_therapist_spearman(predicted, observed, therapist)
    rhos, sizes = [], []
    for t in range(30):
        inside = therapist == t
        if inside.sum() >= 3 and np.ptp(predicted[inside]) > 0 and np.ptp(observed[inside]) > 0:
            rhos.append(spearmanr(predicted[inside], observed[inside]).statistic)
            sizes.append(inside.sum())
    assert counted == len(rhos) == 29
    assert value == pytest.approx(np.average(rhos, weights=sizes))


def test_evaluate_refuses_too_little_data_and_missing_therapists() -> None:
    x, y, therapist = simulate(29, 5, seed=27)
    with pytest.raises(NotEnoughRatings):
        _evaluate(x, y, therapist)
    x, y, therapist = simulate(100, 10, seed=28)
    with pytest.raises(ValueError, match="groups"):
        _evaluate(x, y, None)
    with pytest.raises(ValueError, match="feature_names"):
        _evaluate(x, y, therapist, feature_names=FEATURES[:3])


def test_the_joint_model_reports_its_variance_components(report: dict[str, Any]) -> None:
    assert report["learned"]["therapist_variance"] is None  # no therapist intercepts asked for
    x, y, therapist = simulate(4_000, 150, seed=20, noise=0.12, therapist_sd=0.05)
    joint = _evaluate(x, y, therapist, learner_params={**FAST, "therapist_effects": "estimate"})
    assert joint["learned"]["therapist_variance"] == pytest.approx(0.05**2, rel=0.35)
    assert joint["learned"]["residual_variance"] == pytest.approx(0.12**2, rel=0.1)
    assert json.loads(json.dumps(joint, allow_nan=False)) == joint


def test_pooled_metrics_match_scipy_and_a_plain_average_per_decile() -> None:
    rng = np.random.default_rng(29)
    therapist = rng.integers(0, 40, 3_000)
    observed = np.clip(rng.normal(0.7, 0.2, 3_000), 0, 1)  # ties at the ceiling
    predicted = np.round(observed + rng.normal(0, 0.1, 3_000), 2)  # ties among predictions
    weight = rng.uniform(0.2, 5.0, 3_000)
    metrics = heldout_metrics(predicted, observed, weight, therapist)
    assert metrics["spearman"] == pytest.approx(spearmanr(predicted, observed).statistic)
    assert heldout_metrics(np.full(3_000, 0.5), observed, weight, therapist)["spearman"] is None
    decile = np.empty(3_000, dtype=np.intp)
    decile[np.argsort(predicted, kind="stable")] = np.arange(3_000) * 10 // 3_000
    rows = calibration(predicted, observed, weight)
    assert [r["n"] for r in rows] == np.bincount(decile).tolist()
    for r in rows:
        inside = decile == r["decile"] - 1
        mean = np.average([predicted[inside], observed[inside]], axis=1, weights=weight[inside])
        assert [r["mean_predicted"], r["mean_observed"]] == pytest.approx(mean.tolist())
