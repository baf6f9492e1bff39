"""The weight learner: scikit-learn's contract, recovery, shrinkage, intervals, weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks

from matcher.core.learning.learner import AllianceRegressor
from matcher.core.scoring import load_default

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]
# The default model's weights (models/default.json) as a plausible truth: all > 0.
TRUE_COEF = load_default().vector()
TRUE_INTERCEPT = 0.52


def simulate(
    n: int,
    therapists: int,
    seed: int,
    coef: np.ndarray = TRUE_COEF,
    intercept: float = TRUE_INTERCEPT,
    noise: float = 0.12,
    therapist_sd: float = 0.03,
) -> Arrays:
    """(X, y, therapist) with half the features binary, a therapist effect and rating noise."""
    rng = np.random.default_rng(seed)
    therapist = rng.integers(0, therapists, n)
    x = rng.random((n, len(coef)))
    x[:, : len(coef) // 2] = x[:, : len(coef) // 2] < 0.4
    effect = rng.normal(0, therapist_sd, therapists)
    y = intercept + x @ coef + effect[therapist] + rng.normal(0, noise, n)
    return x, y, therapist


@parametrize_with_checks([AllianceRegressor(), AllianceRegressor(alphas=[1.0], n_bootstrap=20)])
def test_follows_the_scikit_learn_contract(estimator: AllianceRegressor, check: Any) -> None:
    check(estimator)


def test_recovers_known_non_negative_weights() -> None:
    coef = TRUE_COEF.copy()
    coef[[1, 7]] = 0.0
    x, y, therapist = simulate(20_000, 400, seed=0, coef=coef)
    model = AllianceRegressor(random_state=0).fit(x, y, groups=therapist)
    assert model.coef_ == pytest.approx(coef, abs=0.01)
    assert model.intercept_ == pytest.approx(TRUE_INTERCEPT, abs=0.01)
    assert (model.coef_ >= 0).all()


def test_a_held_weight_keeps_its_value_and_the_others_fit_around_it() -> None:
    x, y, therapist = simulate(20_000, 400, seed=4)
    fixed = np.full(len(TRUE_COEF), np.nan)
    fixed[-1] = TRUE_COEF[-1]
    model = AllianceRegressor(random_state=0, fixed_coef=fixed).fit(x, y, groups=therapist)
    assert model.coef_[-1] == TRUE_COEF[-1]
    assert model.coef_interval_[-1].tolist() == [TRUE_COEF[-1], TRUE_COEF[-1]]
    assert model.coef_ == pytest.approx(TRUE_COEF, abs=0.01)
    assert model.intercept_ == pytest.approx(TRUE_INTERCEPT, abs=0.01)
    # Held at a wrong value, the weight stays there and the fit absorbs what it can elsewhere.
    fixed[-1] = 0.0
    wrong = AllianceRegressor(n_bootstrap=0, fixed_coef=fixed).fit(x, y, groups=therapist)
    assert wrong.coef_[-1] == 0.0
    assert wrong.coef_[:-1] == pytest.approx(TRUE_COEF[:-1], abs=0.01)
    assert np.mean((wrong.predict(x) - y) ** 2) > np.mean((model.predict(x) - y) ** 2)
    # Without a bootstrap a held weight's interval is still its value; the fitted ones have none.
    assert wrong.coef_interval_[-1].tolist() == [0.0, 0.0]
    assert np.isnan(wrong.coef_interval_[:-1]).all()
    # Every weight held: nothing to fit, no penalty.
    everything = AllianceRegressor(n_bootstrap=0, fixed_coef=TRUE_COEF).fit(x, y)
    assert everything.alpha_ == 0.0 and everything.coef_.tolist() == TRUE_COEF.tolist()


def test_a_harmful_feature_gets_weight_zero_not_a_negative_one() -> None:
    coef = TRUE_COEF.copy()
    coef[3] = -0.05
    x, y, therapist = simulate(5_000, 200, seed=1, coef=coef)
    model = AllianceRegressor(n_bootstrap=0, random_state=0).fit(x, y, groups=therapist)
    assert model.coef_[3] == 0.0
    assert (model.coef_ >= 0).all()


def test_a_fixed_penalty_pulls_to_the_prior_with_few_ratings_and_lets_go_with_many() -> None:
    prior = np.zeros_like(TRUE_COEF)
    prior[2] = 0.3

    def fitted(n: int) -> np.ndarray:
        x, y, therapist = simulate(n, max(5, n // 30), seed=2)
        model = AllianceRegressor(prior_coef=prior, alphas=[50.0], n_bootstrap=0)
        return np.asarray(model.fit(x, y, groups=therapist).coef_)

    few, many = fitted(30), fitted(20_000)
    assert np.abs(few - prior).max() < 0.1
    assert np.abs(many - TRUE_COEF).max() < 0.01


def test_cross_validation_shrinks_less_as_ratings_accumulate() -> None:
    def relative_alpha(n: int, seed: int) -> float:
        x, y, therapist = simulate(n, max(5, n // 30), seed=seed)
        model = AllianceRegressor(n_bootstrap=0, random_state=seed).fit(x, y, groups=therapist)
        return float(model.alpha_ / model.cv_results_["alphas"].min())

    few = np.median([relative_alpha(40, seed) for seed in range(5)])
    many = np.median([relative_alpha(20_000, seed) for seed in range(5)])
    assert few > 30 * many


def test_one_standard_error_keeps_closer_to_the_weights_in_force_than_the_minimum() -> None:
    prior = np.full(len(TRUE_COEF), 0.05)
    stricter = 0
    for seed in range(3):
        x, y, therapist = simulate(600, 60, seed=seed)
        fits = {
            rule: AllianceRegressor(prior_coef=prior, rule=rule, n_bootstrap=0, random_state=0).fit(
                x, y, groups=therapist
            )
            for rule in ("one_se", "min")
        }
        cautious, best = fits["one_se"], fits["min"]
        assert cautious.alpha_ >= best.alpha_
        stricter += cautious.alpha_ > best.alpha_
        assert np.abs(cautious.coef_ - prior).sum() <= np.abs(best.coef_ - prior).sum() + 1e-12
        results = cautious.cv_results_
        assert results["fold_mse"].shape == (5, len(results["alphas"]))
        # Within one standard error of the best held-out error, paired by fold.
        chosen = int(np.flatnonzero(results["alphas"] == cautious.alpha_)[0])
        assert results["mean_mse"][chosen] <= results["mean_mse"].min() * 1.05
    assert stricter >= 1  # on 600 noisy ratings it pulls toward the prior at least once
    # With plenty of ratings both rules land on the truth.
    x, y, therapist = simulate(20_000, 400, seed=0)
    fit = AllianceRegressor(prior_coef=prior, n_bootstrap=0, random_state=0)
    assert fit.fit(x, y, groups=therapist).coef_ == pytest.approx(TRUE_COEF, abs=0.01)


def test_intervals_cover_the_truth_in_most_repetitions() -> None:
    covered = []
    for seed in range(20):
        x, y, therapist = simulate(1_500, 60, seed=100 + seed)
        prior = np.full_like(TRUE_COEF, 0.05)
        model = AllianceRegressor(prior_coef=prior, random_state=seed)
        low, high = model.fit(x, y, groups=therapist).coef_interval_.T
        covered.append((low <= TRUE_COEF) & (high >= TRUE_COEF))
        assert (low <= model.coef_).all() and (model.coef_ <= high).all()
    # Nominal 95%; shrinkage bias and 60 clusters make it a little lower in practice.
    assert np.mean(covered) >= 0.8


def test_more_ratings_narrow_the_intervals() -> None:
    def width(n: int) -> float:
        x, y, therapist = simulate(n, n // 20, seed=3)
        model = AllianceRegressor(random_state=0).fit(x, y, groups=therapist)
        return float(np.diff(model.coef_interval_, axis=1).mean())

    assert width(8_000) < 0.6 * width(1_000)


def test_integer_weights_are_repeated_ratings_and_zero_weights_removed_ones() -> None:
    x, y, therapist = simulate(300, 30, seed=4)
    weight = np.random.default_rng(4).integers(0, 4, len(y))
    params = {"alphas": [3.0], "n_bootstrap": 0}
    weighted = AllianceRegressor(**params).fit(x, y, sample_weight=weight, groups=therapist)
    rows = np.repeat(np.arange(len(y)), weight)
    repeated = AllianceRegressor(**params).fit(x[rows], y[rows], groups=therapist[rows])
    assert weighted.coef_ == pytest.approx(repeated.coef_, abs=1e-10)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, abs=1e-10)


def test_cv_reports_every_alpha_and_the_weights_in_force() -> None:
    x, y, therapist = simulate(2_000, 80, seed=5)
    model = AllianceRegressor(
        prior_coef=TRUE_COEF, prior_intercept=TRUE_INTERCEPT, n_bootstrap=0, random_state=0
    ).fit(x, y, groups=therapist)
    results = model.cv_results_
    assert len(results["alphas"]) == len(results["mean_mse"]) == 13
    assert model.alpha_ in results["alphas"]
    # The true weights in force are as good as anything learned from noisy ratings.
    assert results["prior_mse"] <= results["mean_mse"].min() * 1.01
    assert results["mean_mse"].min() == pytest.approx(0.12**2 + 0.03**2, rel=0.1)


def test_predict_is_intercept_plus_weighted_features() -> None:
    x, y, therapist = simulate(500, 40, seed=6)
    model = AllianceRegressor(n_bootstrap=0, random_state=0).fit(x, y, groups=therapist)
    assert model.predict(x[:5]) == pytest.approx(model.intercept_ + x[:5] @ model.coef_)


def test_few_therapists_fall_back_to_row_folds_and_one_row_to_the_prior() -> None:
    x, y, therapist = simulate(60, 3, seed=7)
    model = AllianceRegressor(n_bootstrap=10, random_state=0).fit(x, y, groups=therapist)
    assert np.isfinite(model.cv_results_["mean_mse"]).all()
    single = AllianceRegressor(prior_coef=TRUE_COEF, random_state=0).fit(x[:1], y[:1])
    assert single.alpha_ == single.cv_results_["alphas"].max()
    assert single.coef_ == pytest.approx(TRUE_COEF)


def test_without_a_bootstrap_there_is_no_interval() -> None:
    x, y, _ = simulate(100, 10, seed=8)
    model = AllianceRegressor(n_bootstrap=0, random_state=0).fit(x, y)
    assert model.coef_interval_.shape == (len(TRUE_COEF), 2)
    assert np.isnan(model.coef_interval_).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"prior_coef": [-0.1] + [0.0] * 10}, "prior_coef must be 11 finite numbers >= 0"),
        ({"prior_coef": [0.1] * 3}, "prior_coef must be 11"),
        ({"prior_intercept": float("nan")}, "prior_intercept must be a finite number"),
        ({"alphas": [-1.0]}, "alphas must be"),
        ({"alphas": []}, "alphas must be"),
        ({"cv": 1}, "cv must be an integer >= 2"),
        ({"n_bootstrap": -1}, "n_bootstrap must be an integer >= 0"),
        ({"interval": 1.0}, r"interval must be in \(0, 1\)"),
        ({"fixed_coef": [0.1] * 3}, "fixed_coef must be 11 entries"),
        ({"rule": "best"}, "rule must be 'one_se' or 'min'"),
        ({"fixed_coef": [-0.1] + [float("nan")] * 10}, "fixed_coef must be 11 entries"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params: dict[str, Any], message: str) -> None:
    x, y, _ = simulate(50, 5, seed=9)
    model = AllianceRegressor(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=message):
        model.fit(x, y)


@pytest.mark.parametrize(
    ("weight", "message"),
    [([1.0] * 49, "expected"), ([-1.0] * 50, "non-negative"), ([0.0] * 50, "all zero")],
)
def test_bad_sample_weights_are_refused(weight: list[float], message: str) -> None:
    x, y, _ = simulate(50, 5, seed=10)
    with pytest.raises(ValueError, match=message):
        AllianceRegressor().fit(x, y, sample_weight=weight)


def test_groups_must_match_the_ratings() -> None:
    x, y, _ = simulate(50, 5, seed=11)
    with pytest.raises(ValueError, match="one entry per sample"):
        AllianceRegressor().fit(x, y, groups=[1, 2])


def selected(n: int, therapists: int, seed: int, therapist_sd: float = 0.08) -> Arrays:
    """Ratings where therapists with a larger own effect were sent clients who matched less well,
    as a ranking that lifts therapists on their record does; true weights TRUE_COEF."""
    rng = np.random.default_rng(seed)
    therapist = rng.integers(0, therapists, n)
    effect = rng.normal(0, therapist_sd, therapists)
    x = rng.random((n, len(TRUE_COEF)))
    x = np.clip(x - 3.0 * effect[therapist][:, None], 0.0, 1.0)
    y = TRUE_INTERCEPT + x @ TRUE_COEF + effect[therapist] + rng.normal(0, 0.05, n)
    return x, y, therapist


def test_therapist_intercepts_keep_a_therapists_own_effect_out_of_the_match_weights() -> None:
    x, y, therapist = selected(6_000, 300, seed=21)
    params = {"n_bootstrap": 0, "random_state": 0, "rule": "min"}
    plain = AllianceRegressor(**params).fit(x, y, groups=therapist)
    joint = AllianceRegressor(therapist_effects="estimate", **params).fit(x, y, groups=therapist)
    plain_error = np.abs(plain.coef_ - TRUE_COEF).mean()
    joint_error = np.abs(joint.coef_ - TRUE_COEF).mean()
    # Ignoring the therapists, the better ones' worse-matched clients drag every weight down.
    assert (plain.coef_ < TRUE_COEF).sum() >= 9
    assert joint_error < 0.3 * plain_error
    assert joint.coef_ == pytest.approx(TRUE_COEF, abs=0.02)


def test_therapist_and_rating_variances_are_estimated() -> None:
    x, y, therapist = simulate(20_000, 500, seed=22, noise=0.12, therapist_sd=0.05)
    model = AllianceRegressor(therapist_effects="estimate", n_bootstrap=0, random_state=0)
    model.fit(x, y, groups=therapist)
    assert model.therapist_variance_ == pytest.approx(0.05**2, rel=0.2)
    assert model.residual_variance_ == pytest.approx(0.12**2, rel=0.05)
    plain = AllianceRegressor(n_bootstrap=0, random_state=0).fit(x, y, groups=therapist)
    assert np.isnan(plain.therapist_variance_)


def test_a_tiny_variance_ratio_is_the_plain_fit_and_intercepts_need_therapists() -> None:
    x, y, therapist = simulate(1_000, 50, seed=23)
    params = {"alphas": [0.5], "n_bootstrap": 0}
    plain = AllianceRegressor(**params).fit(x, y, groups=therapist)
    tiny = AllianceRegressor(therapist_effects=1e-12, **params).fit(x, y, groups=therapist)
    assert tiny.coef_ == pytest.approx(plain.coef_, abs=1e-6)
    ungrouped = AllianceRegressor(therapist_effects="estimate", **params).fit(x, y)
    assert ungrouped.coef_ == pytest.approx(AllianceRegressor(**params).fit(x, y).coef_)


@pytest.mark.parametrize("effects", ["fitted", 0.0, -1.0, float("inf"), True])
def test_therapist_effects_must_be_estimate_or_a_positive_ratio(effects: Any) -> None:
    x, y, therapist = simulate(50, 5, seed=24)
    with pytest.raises(ValueError, match="therapist_effects must be"):
        AllianceRegressor(therapist_effects=effects).fit(x, y, groups=therapist)


@given(
    seed=st.integers(0, 2**16),
    ratio=st.floats(1e-3, 1e3),
    alpha=st.floats(0.0, 10.0),
)
def test_joint_weights_are_non_negative_and_the_score_adds_up(
    seed: int, ratio: float, alpha: float
) -> None:
    x, y, therapist = simulate(120, 12, seed=seed, therapist_sd=0.1)
    model = AllianceRegressor(therapist_effects=ratio, alphas=[alpha], n_bootstrap=5)
    model.fit(x, y, groups=therapist)
    assert (model.coef_ >= 0).all()
    assert np.isfinite(model.intercept_)
    assert model.predict(x) == pytest.approx(model.intercept_ + x @ model.coef_)
    assert (model.coef_interval_[:, 0] <= model.coef_interval_[:, 1]).all()
