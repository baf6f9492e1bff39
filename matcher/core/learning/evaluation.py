"""Evaluate a learned candidate against the weights in force on therapist-held-out ratings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.utils import check_array

from matcher.core.learning.learner import (
    AllianceRegressor,
    Prepared,
    checked_weights,
    group_codes,
)
from matcher.core.learning.minimums import (
    check_enough,
)
from matcher.core.learning.sufficient import Indices, group_folds, unit_sums
from matcher.core.scoring.features import FEATURES
from matcher.core.scoring.index import Floats

# Below this, learning is refused: a few referrals say little about 11 weights, and a dependable
# therapist-level alliance estimate takes many cases (research.md).
# Below these, a candidate is still learned but the evaluation warns that it is fragile.
FEW_RATINGS = 200
FEW_THERAPISTS = 30
# Propensity weights whose effective sample size is below this share of n are "very uneven".
UNEVEN_WEIGHTS = 0.5
DECILES = 10
# A therapist needs this many held-out ratings for a within-therapist rank correlation.
MIN_RATINGS_TO_RANK = 3
_PINNED = 1e-12


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _sortable(codes: Indices) -> npt.NDArray[np.integer[Any]]:
    """Group codes in the narrowest type that holds them: a stable sort of 16-bit keys is a
    radix sort, several times faster than on 64-bit ones."""
    if not len(codes) or int(codes.max()) < 1 << 16:
        return codes.astype(np.uint16)
    return codes


def _average_ranks(values: Floats, order: Indices, codes: Indices | None) -> Floats:
    """Average ranks (from 0) of values within each group (None: one group), ties sharing their
    mean rank; ``order`` sorts the rows by group, then by value."""
    n = len(values)
    v = values[order]
    starts = np.zeros(n, dtype=bool)
    starts[:1] = True
    if codes is not None:
        g = codes[order]
        starts[1:] = g[1:] != g[:-1]
    position = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    new_block = starts.copy()
    new_block[1:] |= v[1:] != v[:-1]
    block = np.cumsum(new_block) - 1
    mean_rank = np.bincount(block, weights=position) / np.bincount(block)
    ranks = np.empty(n)
    ranks[order] = mean_rank[block]
    return ranks


@dataclass(frozen=True, eq=False)
class Ranked:
    """One vector's average ranks: pooled, and within each therapist (centred), with each
    therapist's sum of squares; sorted once, shared by every rank correlation it enters."""

    order: Indices  # the rows by value (stable)
    pooled: Floats
    within: Floats
    within_ss: Floats
    constant: bool

    @classmethod
    def of(cls, values: Floats, codes: Indices) -> Ranked:
        """Rank ``values`` pooled and within the groups ``codes``."""
        k = int(codes.max()) + 1 if len(codes) else 0
        n = np.bincount(codes, minlength=k).astype(np.float64)
        order = np.argsort(values, kind="stable")
        # By group, then by value: lexsort's order, from a stable sort of the groups.
        grouped = order[np.argsort(_sortable(codes)[order], kind="stable")]
        r = _average_ranks(values, grouped, codes)
        centred = r - (np.bincount(codes, weights=r, minlength=k) / np.maximum(n, 1))[codes]
        return cls(
            order=order,
            pooled=_average_ranks(values, order, None),
            within=centred,
            within_ss=np.bincount(codes, weights=centred**2, minlength=k).astype(np.float64),
            constant=bool(np.ptp(values) == 0) if len(values) else True,
        )


def _spearman(predicted: Ranked, observed: Ranked) -> float | None:
    """Spearman's rho (Pearson's r of the average ranks), or None when either side is constant
    (rho undefined)."""
    if predicted.constant or observed.constant:
        return None
    return float(np.corrcoef(predicted.pooled, observed.pooled)[0, 1])


def _within_spearman(
    predicted: Ranked, observed: Ranked, codes: Indices
) -> tuple[float | None, int]:
    """Within-therapist rho from two vectors' ranks (``within_therapist_spearman``)."""
    k = len(predicted.within_ss)
    n = np.bincount(codes, minlength=k).astype(np.float64)
    cross = np.bincount(codes, weights=predicted.within * observed.within, minlength=k)
    sums = predicted.within_ss, observed.within_ss
    usable = (n >= MIN_RATINGS_TO_RANK) & (sums[0] > 0) & (sums[1] > 0)
    if not usable.any():
        return None, 0
    rho = cross[usable] / np.sqrt(sums[0][usable] * sums[1][usable])
    return float(np.average(rho, weights=n[usable])), int(usable.sum())


def within_therapist_spearman(
    predicted: Floats, observed: Floats, codes: Indices
) -> tuple[float | None, int]:
    """Spearman's rho within each therapist, averaged weighted by ratings; and how many counted.

    Pooled rho mostly reflects differences between therapists. Within one therapist only the
    client-side match features vary, so this asks whether the score orders that therapist's
    clients by how their alliances went: the part of the model that decides who meets whom.
    """
    return _within_spearman(Ranked.of(predicted, codes), Ranked.of(observed, codes), codes)


def calibration(
    predicted: Floats, observed: Floats, weight: Floats, order: Indices | None = None
) -> list[dict[str, Any]]:
    """Mean predicted vs observed alliance by decile of predicted score (equal-count bins);
    ``order`` the predictions' stable sort order, if already known."""
    n = len(predicted)
    rank = np.empty(n, dtype=np.intp)
    rank[np.argsort(predicted, kind="stable") if order is None else order] = np.arange(n)
    decile = rank * DECILES // max(n, 1)
    count = np.bincount(decile, minlength=DECILES)
    total = np.bincount(decile, weights=weight, minlength=DECILES)
    mean_predicted = np.bincount(decile, weights=weight * predicted, minlength=DECILES)
    mean_observed = np.bincount(decile, weights=weight * observed, minlength=DECILES)
    return [
        {
            "decile": d + 1,
            "n": int(count[d]),
            "mean_predicted": float(mean_predicted[d] / total[d]),
            "mean_observed": float(mean_observed[d] / total[d]),
        }
        for d in range(DECILES)
        if count[d] and total[d] > 0
    ]


def heldout_metrics(
    predicted: Floats,
    observed: Floats,
    weight: Floats,
    codes: Indices,
    ranked: tuple[Ranked, Ranked] | None = None,
) -> dict[str, Any]:
    """Weighted MAE and RMSE, pooled and within-therapist Spearman of held-out predictions
    (``ranked``: both sides' ranks, if already known)."""
    error = predicted - observed
    mine, theirs = ranked or (Ranked.of(predicted, codes), Ranked.of(observed, codes))
    within, counted = _within_spearman(mine, theirs, codes)
    return {
        "mae": float(np.average(np.abs(error), weights=weight)),
        "rmse": math.sqrt(float(np.average(error**2, weights=weight))),
        "spearman": _spearman(mine, theirs),
        "spearman_within_therapist": within,
        "therapists_ranked": counted,
    }


def raw_intercept(x: Floats, y: Floats, weight: Floats, coef: Floats) -> float:
    """The intercept that puts slopes fitted on centred features back on the raw scale."""
    return float(np.average(y, weights=weight) - np.average(x, axis=0, weights=weight) @ coef)


def _heldout_predictions(
    model: AllianceRegressor,
    data: Prepared,
    x: Floats,
    folds: int,
    on_raw_scale: bool,
) -> Floats:
    """Each rating predicted by a learner refitted without that rating's therapist.

    The refits share ``data``, the statistics ``model`` summed per therapist: each fold's fit adds
    up its therapists' blocks instead of passing over their rows again.
    """
    codes = data.codes
    if codes is None:
        raise ValueError("groups (the therapist of each rating) are required.")
    k = int(codes.max()) + 1
    # Unshuffled GroupKFold's folds, from the therapists' sizes.
    fold = group_folds(np.bincount(codes, minlength=k), min(folds, k))
    # Intervals are not needed inside the folds: skip the bootstrap there.
    refit = clone(model).set_params(n_bootstrap=0)
    coefs = np.empty((int(fold.max()) + 1, x.shape[1]))
    intercepts = np.empty(len(coefs))
    # Weighted sums per therapist of the raw features and scores, for raw-scale intercepts.
    sums = unit_sums(np.column_stack([np.ones(len(x)), x, data.target]), data.weight, codes, k)
    for f in range(len(coefs)):
        refit._fit_prepared(data, units=fold != f)
        coefs[f] = refit.coef_
        intercepts[f] = refit.intercept_
        if on_raw_scale:
            train = sums[fold != f].sum(axis=0)
            means = train[1:] / train[0]
            intercepts[f] = float(means[-1] - means[:-1] @ refit.coef_)
    row_fold = fold[codes]
    predicted = np.take_along_axis(x @ coefs.T, row_fold[:, None], axis=1)[:, 0]
    return np.asarray(predicted + intercepts[row_fold], dtype=np.float64)


def _warnings(
    n: int,
    n_therapists: int,
    ess: float,
    model: AllianceRegressor,
    intercept: float,
    names: Sequence[str],
    heldout: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Plain sentences about what makes this candidate fragile."""
    out = []
    if n < FEW_RATINGS:
        out.append(
            f"Only {n} rated referrals: weights learned from fewer than {FEW_RATINGS} are fragile."
        )
    if n_therapists < FEW_THERAPISTS:
        out.append(
            f"Ratings come from only {n_therapists} therapists (fewer than {FEW_THERAPISTS}): "
            "therapist differences may be mistaken for match effects."
        )
    pinned = [name for name, w in zip(names, model.coef_, strict=True) if w <= _PINNED]
    if pinned:
        out.append(f"Weights pinned at 0 (no evidence they help): {', '.join(pinned)}.")
    low, high = model.coef_interval_[:, 0], model.coef_interval_[:, 1]
    wide = [
        name
        for name, w, lo, hi in zip(names, model.coef_, low, high, strict=True)
        if w > _PINNED and hi - lo > w
    ]
    if wide:
        out.append(
            f"Weights whose uncertainty interval is wider than the weight: {', '.join(wide)}."
        )
    if heldout["learned"]["rmse"] >= heldout["active"]["rmse"]:
        out.append("The learned model is not better than the active model on held-out error.")
    if ess < UNEVEN_WEIGHTS * n:
        out.append(
            f"Propensity weights are very uneven: the effective sample size is {ess:.0f} "
            f"of {n} ratings."
        )
    if intercept + float(model.coef_.sum()) > 1:
        out.append("Intercept plus all weights exceeds 1: some scores would leave the 0..1 scale.")
    return out


def evaluate(
    X: Any,  # noqa: N803
    y: Any,
    *,
    groups: Any,
    sample_weight: Any = None,
    active_coef: Sequence[float] | Floats,
    active_intercept: float,
    feature_names: Sequence[str] = FEATURES,
    learner_params: Mapping[str, Any] | None = None,
    folds: int = 5,
    random_state: int | None = 0,
    baseline: Any = None,
) -> dict[str, Any]:
    """Learn a candidate from all ratings and compare it with the active model, held out.

    ``baseline`` (one row of features per rating, e.g. the mean over the therapists that were
    eligible for that client) makes the slopes within-client: the learner sees how much better
    the chosen therapist matched than the alternatives, not how many preferences a client gave.
    Predictions and the reported intercept stay on the raw feature scale.
    """
    x = check_array(X, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    n, p = x.shape
    if target.shape != (n,) or not np.isfinite(target).all():
        raise ValueError(f"y must be {n} finite alliance scores.")
    names = list(feature_names)
    active = np.asarray(active_coef, dtype=np.float64)
    if len(names) != p or active.shape != (p,):
        raise ValueError(f"feature_names and active_coef must both have {p} entries.")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}.")
    weight = checked_weights(sample_weight, n)
    codes = group_codes(groups, n)
    if codes is None:
        raise ValueError("groups (the therapist of each rating) are required.")
    n_therapists = int(codes.max()) + 1
    check_enough(n, n_therapists)
    params = {
        "prior_coef": active,
        "prior_intercept": float(active_intercept),
        "random_state": random_state,
        **(learner_params or {}),
    }
    base = None if baseline is None else check_array(baseline, dtype=np.float64)
    if base is not None and base.shape != x.shape:
        raise ValueError(f"baseline must have the shape of X, {x.shape}.")
    fit_x = x if base is None else x - base
    model = AllianceRegressor(**params)
    data = model._prepare(fit_x, target, sample_weight=weight, groups=codes)
    predicted = {
        "learned": _heldout_predictions(model, data, x, folds, base is not None),
        "active": float(active_intercept) + x @ active,
    }
    model._fit_prepared(data)
    intercept = (
        float(model.intercept_) if base is None else raw_intercept(x, target, weight, model.coef_)
    )
    ranks = {k: Ranked.of(v, codes) for k, v in predicted.items()}
    observed = Ranked.of(target, codes)  # ranked once for both models
    heldout = {
        k: heldout_metrics(v, target, weight, codes, (ranks[k], observed))
        for k, v in predicted.items()
    }
    ess = float(weight.sum() ** 2 / (weight**2).sum())
    interval = {
        name: {
            "weight": float(w),
            "low": None if math.isnan(lo) else float(lo),
            "high": None if math.isnan(hi) else float(hi),
        }
        for name, w, (lo, hi) in zip(names, model.coef_, model.coef_interval_, strict=True)
    }
    return {
        "n_ratings": n,
        "n_therapists": n_therapists,
        "effective_sample_size": ess,
        "folds": min(folds, n_therapists),
        "centred_within_client": base is not None,
        "learned": {
            "intercept": intercept,
            "weights": dict(zip(names, model.coef_.tolist(), strict=True)),
            "alpha": model.alpha_,
            # The joint model's variance components (None without therapist intercepts).
            "therapist_variance": _finite(model.therapist_variance_),
            "residual_variance": _finite(model.residual_variance_),
        },
        "heldout": heldout,
        "calibration": {
            k: calibration(v, target, weight, ranks[k].order) for k, v in predicted.items()
        },
        "coef_interval": interval,
        "interval": float(model.interval),
        "warnings": _warnings(n, n_therapists, ess, model, intercept, names, heldout),
    }
