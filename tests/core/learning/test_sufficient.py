"""Sufficient statistics per therapist: every shortcut equals the computation on the rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from matcher.core.learning.evaluation import _heldout_predictions, raw_intercept
from matcher.core.learning.learner import AllianceRegressor, group_codes
from matcher.core.learning.record import summed_variance_components, variance_components
from matcher.core.learning.sufficient import (
    fold_pairs,
    group_folds,
    sufficient_stats,
    therapist_adjusted,
    unit_stats,
)
from tests.core.learning.test_learner import TRUE_COEF, selected, simulate


def rows(n: int, units: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z = [1, x, y], weight, unit) with uneven units and uneven weights."""
    rng = np.random.default_rng(seed)
    unit = np.minimum(rng.geometric(1.5 / units, n) - 1, units - 1).astype(np.intp)
    z = np.column_stack([np.ones(n), rng.random((n, 4)), rng.normal(0.7, 0.1, n)])
    return z, rng.uniform(0.2, 5.0, n), unit


def test_unit_stats_are_each_units_own_cross_products() -> None:
    z, weight, unit = rows(3_000, 40, seed=1)
    blocks = unit_stats(z, weight, unit, 41)  # one unit more than there are: all zeros
    for u in range(41):
        inside = unit == u
        assert blocks[u] == pytest.approx(sufficient_stats(z[inside], weight[inside]), rel=1e-12)
    assert not blocks[40].any()


@pytest.mark.parametrize("seed", range(6))
def test_group_folds_are_group_k_folds_assignment(seed: int) -> None:
    rng = np.random.default_rng(seed)
    units = int(rng.integers(5, 60))
    sizes = rng.integers(1, 6, units)  # many ties: the order among them must match too
    codes = np.repeat(np.arange(units), sizes)
    for k in (2, 3, 5):
        fold = group_folds(sizes, k)
        for f, (_, test) in enumerate(GroupKFold(n_splits=k).split(codes, codes, codes)):
            assert np.unique(codes[test]).tolist() == np.flatnonzero(fold == f).tolist()


@pytest.mark.parametrize("penalty", [None, 0.0, 3.0])
def test_fold_statistics_from_blocks_equal_the_rows_of_each_fold(penalty: float | None) -> None:
    z, weight, unit = rows(5_000, 60, seed=2)
    blocks = unit_stats(z, weight, unit, 60)
    if penalty is not None:
        blocks = therapist_adjusted(blocks, penalty)
    fold = group_folds(np.bincount(unit, minlength=60), 5)

    def direct(inside: np.ndarray) -> np.ndarray:
        own = unit_stats(z[inside], weight[inside], unit[inside], 60)
        return own if penalty is None else therapist_adjusted(own, penalty)

    for f, (fitting, held) in enumerate(fold_pairs(blocks, fold, 5)):
        test = fold[unit] == f
        assert fitting == pytest.approx(direct(~test).sum(axis=0), rel=1e-10, abs=1e-8)
        assert held == pytest.approx(direct(test).sum(axis=0), rel=1e-10, abs=1e-8)


def test_codes_by_counting_are_the_codes_by_sorting() -> None:
    rng = np.random.default_rng(3)
    groups = rng.choice(np.array([0, 3, 4, 9, 70_000, 10]), 500)
    counted = group_codes(groups, 500)
    assert counted is not None and counted.dtype == np.intp
    assert counted.tolist() == np.unique(groups, return_inverse=True)[1].tolist()
    names = group_codes(groups.astype(str), 500)  # sorted as text, not as numbers
    assert names is not None
    assert names.tolist() == np.unique(groups.astype(str), return_inverse=True)[1].tolist()


def test_summed_variance_components_are_the_records_estimator() -> None:
    _, y, therapist = simulate(4_000, 90, seed=5)
    n = np.bincount(therapist)
    sums, squares = np.bincount(therapist, weights=y), np.bincount(therapist, weights=y * y)
    assert summed_variance_components(n, sums, squares) == pytest.approx(
        variance_components(therapist, y), rel=1e-10
    )
    # Nobody with two ratings, and one therapist only: the floors, as the rows would give them.
    for groups in (np.arange(50), np.zeros(50, dtype=np.intp)):
        n, sums = np.bincount(groups), np.bincount(groups, weights=y[:50])
        squares = np.bincount(groups, weights=y[:50] ** 2)
        assert summed_variance_components(n, sums, squares) == pytest.approx(
            variance_components(groups, y[:50]), rel=1e-10
        )


def fitted(model: AllianceRegressor) -> dict[str, Any]:
    """Everything a fit learns, as plain numbers."""
    return {
        "coef": model.coef_,
        "intercept": model.intercept_,
        "alpha": model.alpha_,
        "interval": model.coef_interval_,
        "mean_mse": model.cv_results_["mean_mse"],
        "fold_mse": model.cv_results_["fold_mse"],
        "prior_mse": model.cv_results_["prior_mse"],
        "variances": [model.therapist_variance_, model.residual_variance_],
    }


@pytest.mark.parametrize("effects", [None, "estimate", 0.2])
def test_folds_from_therapist_blocks_equal_refits_on_the_folds_rows(effects: Any) -> None:
    # cv=5 takes the blocks; the same GroupKFold as a splitter sums each fold's rows instead.
    x, y, therapist = selected(6_000, 150, seed=6)
    weight = np.random.default_rng(6).uniform(0.2, 5.0, len(y))
    fixed = np.full(len(TRUE_COEF), np.nan)
    fixed[0] = 0.1
    params = {
        "prior_coef": TRUE_COEF,
        "prior_intercept": 0.5,
        "fixed_coef": fixed,
        "n_bootstrap": 30,
        "random_state": 0,
        "therapist_effects": effects,
    }
    fast = AllianceRegressor(**params, cv=5).fit(x, y, sample_weight=weight, groups=therapist)
    rows_ = AllianceRegressor(**params, cv=GroupKFold(5))
    rows_.fit(x, y, sample_weight=weight, groups=therapist)
    for name, value in fitted(rows_).items():
        assert fitted(fast)[name] == pytest.approx(value, rel=1e-8, abs=1e-10, nan_ok=True), name


@pytest.mark.parametrize("effects", [None, "estimate", 0.2])
def test_a_fit_on_some_therapists_blocks_equals_a_refit_on_their_rows(effects: Any) -> None:
    x, y, therapist = selected(6_000, 150, seed=7)
    weight = np.random.default_rng(7).uniform(0.2, 5.0, len(y))
    fixed = np.full(len(TRUE_COEF), np.nan)
    fixed[3] = 0.05
    model = AllianceRegressor(
        prior_coef=TRUE_COEF,
        prior_intercept=0.5,
        fixed_coef=fixed,
        n_bootstrap=30,
        random_state=1,
        therapist_effects=effects,
    )
    data = model._prepare(x, y, sample_weight=weight, groups=therapist)
    units = np.random.default_rng(8).random(150) < 0.7
    rows = units[therapist]
    refit = clone(model).fit(x[rows], y[rows], sample_weight=weight[rows], groups=therapist[rows])
    from_blocks = fitted(clone(model)._fit_prepared(data, units=units))
    for name, value in fitted(refit).items():
        assert from_blocks[name] == pytest.approx(value, rel=1e-8, abs=1e-10, nan_ok=True), name
    # Fewer therapists than folds: refitted on the rows, the same as fitting them directly.
    few = np.zeros(150, dtype=bool)
    few[:3] = True
    rows = few[therapist]
    alone = clone(model).fit(x[rows], y[rows], sample_weight=weight[rows], groups=therapist[rows])
    for name, value in fitted(clone(model)._fit_prepared(data, units=few)).items():
        assert value == pytest.approx(fitted(alone)[name], rel=1e-12, nan_ok=True), name


@pytest.mark.parametrize("centred", [False, True])
def test_heldout_predictions_equal_refits_on_each_folds_rows(centred: bool) -> None:
    x, y, therapist = selected(5_000, 120, seed=9)
    rng = np.random.default_rng(9)
    weight = rng.uniform(0.2, 5.0, len(y))
    baseline = x + rng.normal(0, 0.1, x.shape) if centred else None
    fit_x = x if baseline is None else x - baseline
    params = {"prior_coef": TRUE_COEF, "random_state": 0, "therapist_effects": "estimate"}
    model = AllianceRegressor(**params)
    data = model._prepare(fit_x, y, sample_weight=weight, groups=therapist)
    predicted = _heldout_predictions(model, data, x, 5, centred)
    expected = np.empty(len(y))
    for train, test in GroupKFold(n_splits=5).split(x, y, therapist):
        refit = AllianceRegressor(**params, n_bootstrap=0)
        refit.fit(fit_x[train], y[train], sample_weight=weight[train], groups=therapist[train])
        intercept = refit.intercept_
        if centred:
            intercept = raw_intercept(x[train], y[train], weight[train], refit.coef_)
        expected[test] = intercept + x[test] @ refit.coef_
    assert predicted == pytest.approx(expected, rel=1e-8, abs=1e-10)
