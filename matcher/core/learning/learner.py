"""Non-negative weights shrunk toward the weights in force, learned from early alliance ratings.

The fit minimises ``sum_i w_i (y_i - b - x_i . beta)^2 + alpha ||beta - beta0||^2`` with
``beta >= 0`` and the intercept ``b`` unpenalised. Everything is solved from sufficient statistics
(the weighted cross-products of ``[1, x, y]``), so cross-validating a grid of alphas and a cluster
bootstrap cost little beyond one pass over the data. Each solve is an 11-weight problem: the
centred normal equations ``(X'WX + alpha I) beta = X'Wy + alpha beta0`` are factored as A'A by an
eigendecomposition and ``scipy.optimize.nnls`` solves ``min ||A beta - c||`` over ``beta >= 0``.

With ``therapist_effects`` the fit is a mixed model: each therapist's ratings share a random
intercept ``u_t ~ (0, tau^2)`` beside the rating noise ``(0, sigma^2 / w_i)``. For a given
``lambda = sigma^2 / tau^2`` the weights are those of the penalised least squares
``sum_i w_i (y_i - b - x_i . beta - u_t)^2 + lambda sum_t u_t^2`` (Henderson's mixed-model
equations), and profiling each ``u_t`` out subtracts ``g_t g_t' / (W_t + lambda)`` from the
therapist's cross-products (``g_t`` the therapist's row of sums, ``W_t`` its weight): the same
sufficient statistics, so CV, the bootstrap and the non-negative solve are unchanged. Slopes are
then learned mostly within therapists (a therapist with many ratings is nearly demeaned, one with
a single rating hardly at all), so a therapist's own effect is not mistaken for a match effect
when the ranking sends better-rated therapists less well-matched clients.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.linalg import eigh
from scipy.optimize import nnls
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GroupKFold, KFold, check_cv
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from matcher.core.learning.record import summed_variance_components
from matcher.core.learning.sufficient import (
    Indices,
    Pair,
    fold_pairs,
    group_folds,
    sufficient_stats,
    therapist_adjusted,
    unit_stats,
)
from matcher.core.scoring.index import Floats

# Relative penalties: multiplied by the mean diagonal of the centred weighted Gram matrix
# (about n times a feature's variance), so the grid means the same at any sample size or weight
# scale, from almost no pull toward beta0 (1e-3) to almost all of it (1e3).
RELATIVE_ALPHAS = np.logspace(-3, 3, 13)
# Eigenvalues below this share of the largest are treated as zero (collinear features).
_RANK_TOLERANCE = 1e-12

Split = tuple[Indices, Indices]
Mask = npt.NDArray[np.bool_]
StatsOf = Callable[[Indices], Floats]


def nonnegative_quadratic(m: Floats, r: Floats) -> Floats:
    """argmin over b >= 0 of b'mb - 2r'b, as NNLS on ||Ab - c||^2 with A'A = m (eigen root)."""
    lam, vec = eigh(m)
    top = float(lam.max()) if lam.size else 0.0
    keep = lam > top * _RANK_TOLERANCE if top > 0 else np.zeros(lam.shape, dtype=bool)
    if not keep.any():
        return np.zeros(len(r))
    root = np.sqrt(lam[keep])
    basis = vec[:, keep].T
    coef, _ = nnls(root[:, None] * basis, (basis @ r) / root)
    return np.asarray(coef, dtype=np.float64)


def best_intercept(stats: Floats, coef: Floats) -> float:
    """The weighted-least-squares intercept for fixed coefficients (0 without any weight)."""
    p = len(coef)
    total = stats[0, 0]
    if total <= 0:
        return 0.0
    return float((stats[0, p + 1] - stats[0, 1 : p + 1] @ coef) / total)


def solve(stats: Floats, alpha: float, prior: Floats) -> tuple[float, Floats]:
    """(intercept, coef) of the penalised fit described by one block of sufficient statistics."""
    p = len(prior)
    total = stats[0, 0]
    if total <= 0:  # no weight at all: nothing to learn from
        return 0.0, prior.copy()
    sx, sy = stats[0, 1 : p + 1], stats[0, p + 1]
    sxx = stats[1 : p + 1, 1 : p + 1] - np.outer(sx, sx) / total
    sxy = stats[1 : p + 1, p + 1] - sx * sy / total
    coef = nonnegative_quadratic(sxx + alpha * np.eye(p), sxy + alpha * prior)
    return best_intercept(stats, coef), coef


def squared_error(stats: Floats, intercept: float, coef: Floats) -> float:
    """The weighted sum of squared residuals of (intercept, coef) on a block of statistics."""
    v = np.concatenate(([-intercept], -coef, [1.0]))
    return max(float(v @ stats @ v), 0.0)


def checked_weights(sample_weight: Any, n: int) -> Floats:
    """Sample weights as a float array of length n: finite, >= 0, with a positive sum."""
    if sample_weight is None:
        return np.ones(n)
    if isinstance(sample_weight, bool | np.bool_):
        raise ValueError("Sample weights must be numbers, not booleans.")
    if isinstance(sample_weight, numbers.Real):  # one number for every sample
        weight = np.full(n, float(sample_weight))
    else:
        weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
        if weight.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {weight.ndim}D.")
        if weight.shape != (n,):
            raise ValueError(f"sample_weight.shape == {weight.shape}, expected {(n,)}.")
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise ValueError("Sample weights must be finite and non-negative.")
    if weight.sum() <= 0:
        raise ValueError("Sample weights are all zero: at least one must be positive.")
    return np.array(weight, dtype=np.float64)


def whole_number(value: Any, name: str, minimum: int) -> int:
    """A parameter that must be an integer >= minimum (booleans refused)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def group_codes(groups: Any, n: int) -> Indices | None:
    """Groups (therapist ids) as codes 0..g-1, or None without groups."""
    if groups is None:
        return None
    values = np.asarray(groups)
    if values.shape != (n,):
        raise ValueError(f"groups must have one entry per sample ({n}), got shape {values.shape}.")
    if values.dtype.kind in "iu" and n and values.min() >= 0 and values.max() < max(4 * n, 1 << 16):
        # Small non-negative integers (codes already): the same codes by counting, not sorting.
        present = np.bincount(values.astype(np.intp)) > 0
        return np.asarray((np.cumsum(present) - 1)[values], dtype=np.intp)
    return np.unique(values, return_inverse=True)[1].astype(np.intp)


def centred_rows(x: Floats, y: Floats, weight: Floats) -> tuple[Floats, Floats, float]:
    """Rows ``[1, x - x_shift, y - y_shift]`` centred by the weighted means, and the shifts; the
    array is a transposed view of one block per column, as ``unit_stats`` reads it."""
    n, p = x.shape
    total = weight.sum()
    x_shift = weight @ x / total
    y_shift = float(weight @ y / total)
    columns = np.empty((p + 2, n))
    columns[0] = 1.0
    np.subtract(x.T, x_shift[:, None], out=columns[1 : p + 1])
    np.subtract(y, y_shift, out=columns[p + 1])
    return columns.T, x_shift, y_shift


@dataclass(frozen=True, eq=False)
class Prepared:
    """Validated rows, centred once, with the per-therapist statistics every fit on them reuses."""

    x: Floats
    target: Floats
    weight: Floats
    groups: Any  # as given, for a cross-validation splitter that reads them
    codes: Indices | None
    held: Mask  # weights held at ``fixed`` rather than fitted
    fixed: Floats
    prior: Floats  # the weights in force, all of them
    z: Floats  # rows [1, free features, y - held offset], centred by the weighted means
    x_shift: Floats
    y_shift: float
    residual: Floats  # rows [1, y - x . prior], centred
    residual_shift: float
    sizes: Indices | None  # rows per therapist
    blocks: Floats | None  # ``unit_stats`` of z per therapist
    residual_blocks: Floats | None  # ``unit_stats`` of residual per therapist


class AllianceRegressor(RegressorMixin, BaseEstimator):
    """Weights >= 0 shrunk toward those in force, alpha chosen by therapist-grouped CV.

    Parameters: ``prior_coef`` the weights in force (None: zeros); ``prior_intercept`` the
    intercept in force, used only for the held-out baseline ``cv_results_["prior_mse"]`` since the
    fitted intercept is never penalised; ``alphas`` absolute penalties (None: RELATIVE_ALPHAS times
    the data's scale); ``cv`` folds (an int, a splitter or an iterable of (train, test) splits);
    ``n_bootstrap`` cluster-bootstrap resamples for ``coef_interval_`` (0: no interval);
    ``interval`` its coverage; ``random_state`` for the folds and the bootstrap; ``fixed_coef``
    weights held at given values rather than fitted (one entry per feature, NaN where the weight
    is fitted; None: all fitted), with an interval of exactly that value; ``rule`` how alpha is
    chosen: "one_se" (default) the largest within one standard error of the best held-out MSE,
    paired by fold, so the weights in force are kept unless the ratings clearly say otherwise;
    "min" the best held-out MSE; ``therapist_effects`` None (no therapist intercepts), "estimate"
    (random therapist intercepts with tau^2 and sigma^2 estimated from the residuals, as the
    therapist records estimate them, ``record.variance_components``) or a number, the variance
    ratio tau^2 / sigma^2 held fixed. Needs ``groups`` at fit; without them it is ignored.
    Fitted: ``therapist_variance_`` and ``residual_variance_`` (NaN unless estimated). With
    therapist intercepts the held-out MSE in ``cv_results_`` is measured after each held-out
    therapist's own intercept is profiled out of its ratings (as in the fit).
    """

    def __init__(
        self,
        prior_coef: Any = None,
        prior_intercept: float | None = None,
        alphas: Any = None,
        cv: Any = 5,
        n_bootstrap: int = 200,
        interval: float = 0.95,
        random_state: Any = None,
        fixed_coef: Any = None,
        rule: str = "one_se",
        therapist_effects: Any = None,
    ) -> None:
        self.prior_coef = prior_coef
        self.prior_intercept = prior_intercept
        self.alphas = alphas
        self.cv = cv
        self.n_bootstrap = n_bootstrap
        self.interval = interval
        self.random_state = random_state
        self.fixed_coef = fixed_coef
        self.rule = rule
        self.therapist_effects = therapist_effects

    def _check_params(self, p: int) -> Floats:
        """Validate the parameters; return the prior coefficients."""
        whole_number(self.n_bootstrap, "n_bootstrap", 0)
        if self.rule not in ("one_se", "min"):
            raise ValueError(f"rule must be 'one_se' or 'min', got {self.rule!r}.")
        effects: Any = self.therapist_effects
        ratio = (
            not isinstance(effects, bool | np.bool_)
            and isinstance(effects, numbers.Real)
            and math.isfinite(float(effects))
            and float(effects) > 0
        )
        if not (effects is None or (isinstance(effects, str) and effects == "estimate") or ratio):
            raise ValueError(
                f"therapist_effects must be None, 'estimate' or a ratio > 0, got {effects!r}."
            )
        interval: Any = self.interval  # checked as given, whatever its annotation says
        if isinstance(interval, bool) or not isinstance(interval, numbers.Real):
            raise ValueError(f"interval must be in (0, 1), got {interval!r}.")
        if not 0 < float(interval) < 1:
            raise ValueError(f"interval must be in (0, 1), got {interval!r}.")
        if self.prior_intercept is not None and not np.isfinite(self.prior_intercept):
            raise ValueError("prior_intercept must be a finite number or None.")
        if self.prior_coef is None:
            return np.zeros(p)
        prior = np.asarray(self.prior_coef, dtype=np.float64)
        if prior.shape != (p,) or not np.isfinite(prior).all() or (prior < 0).any():
            raise ValueError(f"prior_coef must be {p} finite numbers >= 0.")
        return prior

    def _check_fixed(self, p: int) -> Floats:
        """The held weights: NaN where a weight is fitted, else its value (finite, >= 0)."""
        if self.fixed_coef is None:
            return np.full(p, np.nan)
        fixed = np.asarray(self.fixed_coef, dtype=np.float64)
        held = fixed[~np.isnan(fixed)]
        if fixed.shape != (p,) or not np.isfinite(held).all() or (held < 0).any():
            raise ValueError(f"fixed_coef must be {p} entries, each NaN or a finite number >= 0.")
        return fixed

    def _alpha_grid(self, full: Floats, p: int) -> Floats:
        """The penalties to try: given ones, or the relative grid scaled to the data."""
        if self.alphas is not None:
            alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
            if not alphas.size or not np.isfinite(alphas).all() or (alphas < 0).any():
                raise ValueError("alphas must be a non-empty list of finite numbers >= 0.")
            return alphas
        total = full[0, 0]
        sx = full[0, 1 : p + 1]
        diagonal = np.diag(full[1 : p + 1, 1 : p + 1]) - sx**2 / total
        scale = float(diagonal.mean()) if p else 0.0
        return RELATIVE_ALPHAS * (scale if scale > 0 else total)

    def _splits(
        self,
        x: Floats,
        y: Floats,
        groups: Any,
        codes: Indices | None,
        rng: Any,
    ) -> list[Split]:
        """Cross-validation splits: by therapist when there are enough, else by row."""
        cv = self.cv
        if isinstance(cv, numbers.Integral):
            k = whole_number(cv, "cv", 2)
            if codes is not None and int(codes.max()) + 1 >= k:
                return list(GroupKFold(n_splits=k).split(x, y, codes))
            if len(y) < 2:  # one row: nothing to hold out
                return []
            folds = KFold(n_splits=min(k, len(y)), shuffle=True, random_state=rng)
            return list(folds.split(x))
        splits: Iterable[Split] = check_cv(cv).split(x, y, groups)
        return list(splits)

    def _prepare(
        self,
        X: Any,  # noqa: N803
        y: Any,
        sample_weight: Any = None,
        groups: Any = None,
    ) -> Prepared:
        """Validate the rows and sum their statistics once, per therapist when there are groups."""
        x, target = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        n, p = x.shape
        prior = self._check_params(p)
        fixed = self._check_fixed(p)
        held = ~np.isnan(fixed)
        weight = checked_weights(sample_weight, n)
        codes = group_codes(groups, n)
        # Held weights become an offset; the rest are fitted on the remaining columns, centred
        # by the weighted means: same solution, better-conditioned cross-products.
        z, x_shift, y_shift = centred_rows(x[:, ~held], target - x[:, held] @ fixed[held], weight)
        # The weights in force are judged by their residuals alone (``cv_results_["prior_mse"]``).
        residual, _, residual_shift = centred_rows(np.empty((n, 0)), target - x @ prior, weight)
        blocks = residual_blocks = sizes = None
        if codes is not None:
            k = int(codes.max()) + 1
            blocks = unit_stats(z, weight, codes, k)
            residual_blocks = unit_stats(residual, weight, codes, k)
            sizes = np.bincount(codes, minlength=k)
        return Prepared(
            x=x,
            target=target,
            weight=weight,
            groups=groups,
            codes=codes,
            held=held,
            fixed=fixed,
            prior=prior,
            z=z,
            x_shift=x_shift,
            y_shift=y_shift,
            residual=residual,
            residual_shift=residual_shift,
            sizes=sizes,
            blocks=blocks,
            residual_blocks=residual_blocks,
        )

    def _therapist_folds(self, sizes: Indices | None) -> Indices | None:
        """Each therapist's fold when the splits are ``GroupKFold``'s (an int cv and at least
        that many therapists, of ``sizes`` rows each), so a fold is a sum of therapist blocks;
        else None (the splits are of rows)."""
        cv = self.cv
        if sizes is None or not isinstance(cv, numbers.Integral):
            return None
        k = whole_number(cv, "cv", 2)
        return group_folds(sizes, k) if len(sizes) >= k else None

    def _row_pairs(
        self,
        z: Floats,
        weight: Floats,
        codes: Indices | None,
        penalty: float | None,
        splits: list[Split],
    ) -> list[Pair]:
        """Each split's (fitting, held-out) statistics, summed over its rows."""
        stats_of = self._stats_function(z, weight, codes, penalty)
        return [(stats_of(train), stats_of(test)) for train, test in splits]

    def _cross_validate(
        self,
        pairs: list[Pair],
        alphas: Floats,
        prior: Floats,
        prior_intercept: float | None,
    ) -> tuple[Floats, float, Floats]:
        """Weighted held-out MSE per alpha and of the weights in force, pooled over folds; and
        each fold's MSE per alpha (folds x alphas)."""
        fold_sse = np.zeros((len(pairs), len(alphas)))
        fold_weight = np.zeros(len(pairs))
        prior_sse = 0.0
        for k, (fit_stats, test_stats) in enumerate(pairs):
            fold_weight[k] = float(test_stats[0, 0])
            for i, alpha in enumerate(alphas):
                fold_sse[k, i] = squared_error(test_stats, *solve(fit_stats, float(alpha), prior))
            # Without an intercept in force, the baseline gets the best one for its weights.
            if prior_intercept is None:
                prior_sse += squared_error(test_stats, best_intercept(fit_stats, prior), prior)
            else:
                prior_sse += squared_error(test_stats, prior_intercept, prior)
        held_weight = float(fold_weight.sum())
        per_fold = fold_sse / np.where(fold_weight > 0, fold_weight, np.nan)[:, None]
        if held_weight <= 0:
            return np.full(len(alphas), np.nan), float("nan"), per_fold
        return fold_sse.sum(axis=0) / held_weight, prior_sse / held_weight, per_fold

    def _choose_alpha(self, alphas: Floats, mse: Floats, per_fold: Floats) -> float:
        """The penalty by the rule: the CV minimum, or the largest within one SE of it."""
        if np.isnan(mse).all():  # too little data to cross-validate: stay near the prior
            return float(alphas.max())
        best = np.nanmin(mse)
        # Ties go to the larger penalty: no evidence to move away from the weights in force.
        at_best = mse <= best + 1e-12 * abs(best)
        if self.rule == "min":
            return float(alphas[at_best].max())
        # One standard error (Hastie, Tibshirani & Friedman 2009, 7.10), paired by fold: each
        # alpha's held-out MSE minus the best one's, fold by fold, against its standard error.
        folds = per_fold[~np.isnan(per_fold).any(axis=1)]
        if len(folds) < 2:
            return float(alphas[at_best].max())
        reference = folds[:, int(np.flatnonzero(at_best)[np.argmax(alphas[at_best])])]
        difference = folds - reference[:, None]
        se = difference.std(axis=0, ddof=1) / np.sqrt(len(folds))
        within = (mse - best <= se) | at_best
        return float(alphas[within].max())

    def _bootstrap(
        self,
        z: Floats,
        weight: Floats,
        blocks: Floats | None,
        alpha: float,
        prior: Floats,
        rng: Any,
    ) -> Floats:
        """Coefficients refitted on resamples of therapists (their blocks, intercepts profiled
        out if any) or of rows without therapists."""
        draws = int(self.n_bootstrap)
        p = len(prior)
        coefs = np.empty((draws, p))
        if blocks is None:
            n = len(weight)
            for b in range(draws):
                counts = np.bincount(rng.randint(0, n, n), minlength=n)
                coefs[b] = solve(sufficient_stats(z, weight * counts), alpha, prior)[1]
            return coefs
        k, q, _ = blocks.shape
        per_unit = blocks.reshape(k, -1)
        picks = rng.randint(0, k, size=(draws, k)) + (np.arange(draws) * k)[:, None]
        counts = np.bincount(picks.ravel(), minlength=draws * k).reshape(draws, k)
        for b, stats in enumerate(counts.astype(np.float64) @ per_unit):
            coefs[b] = solve(stats.reshape(q, q), alpha, prior)[1]
        return coefs

    def _stats_function(
        self, z: Floats, weight: Floats, codes: Indices | None, penalty: float | None
    ) -> StatsOf:
        """Rows -> their sufficient statistics (therapist intercepts profiled out, if any)."""
        if penalty is None or codes is None:
            return lambda rows: sufficient_stats(z[rows], weight[rows])
        k = int(codes.max()) + 1

        def stats_of(rows: Indices) -> Floats:
            blocks = unit_stats(z[rows], weight[rows], codes[rows], k)
            return np.asarray(therapist_adjusted(blocks, penalty).sum(axis=0))

        return stats_of

    def _therapist_penalty(self, data: Prepared, chosen: Mask | None) -> float | None:
        """lambda = sigma^2 / tau^2 (times the mean weight), or None without therapist effects.

        Estimated as Swamy and Arora (1972) do for random effects: the weights fitted within
        therapists (every therapist's intercept free, consistent however the ranking chose
        whom each therapist saw), then tau^2 and sigma^2 from those residuals by the records'
        own estimator. Residuals of a fit that ignores the therapists are not used: their
        weights already carry part of the therapist effects, which hides tau^2 (in a test with
        selection it came out at a quarter of the truth). ``chosen``: the therapists fitted on.
        """
        self.therapist_variance_ = self.residual_variance_ = float("nan")
        effects: Any = self.therapist_effects
        codes, all_blocks, all_sizes = data.codes, data.blocks, data.sizes
        if effects is None or chosen is None or codes is None:
            return None
        if all_blocks is None or all_sizes is None:
            return None
        blocks, sizes = all_blocks[chosen], all_sizes[chosen]
        scale = float(blocks[:, 0, 0].sum() / sizes.sum())  # the mean weight
        if effects != "estimate":
            return scale / float(effects)
        p = int((~data.held).sum())
        prior = data.prior[~data.held]
        # Each therapist demeaned: the intercept column is all zeros, the rest are within
        # cross-products, solved directly (``solve`` would find no weight on the intercept).
        within = therapist_adjusted(blocks, 0.0).sum(axis=0)
        plain = blocks.sum(axis=0)
        alpha = float(self._alpha_grid(plain, p).min())
        block = within[1 : p + 1, 1 : p + 1] + alpha * np.eye(p)
        coef = nonnegative_quadratic(block, within[1 : p + 1, p + 1] + alpha * prior)
        intercept = best_intercept(plain, coef)
        residual = data.z[:, -1] - intercept - data.z[:, 1 : p + 1] @ coef
        # Each therapist's count, sum and sum of squares of residuals: all the estimator reads.
        k = len(all_sizes)
        sums = np.bincount(codes, weights=residual, minlength=k)[chosen].astype(np.float64)
        squares = np.bincount(codes, weights=residual * residual, minlength=k)[chosen]
        tau2, sigma2 = summed_variance_components(
            sizes.astype(np.int64), sums, squares.astype(np.float64)
        )
        self.therapist_variance_, self.residual_variance_ = tau2, sigma2
        return scale * sigma2 / tau2 if tau2 > 0 else None

    def fit(
        self,
        X: Any,  # noqa: N803
        y: Any,
        sample_weight: Any = None,
        groups: Any = None,
    ) -> AllianceRegressor:
        """Choose alpha by grouped CV, fit at it, and bootstrap the weights' intervals."""
        return self._fit_prepared(self._prepare(X, y, sample_weight, groups))

    def _fit_prepared(self, data: Prepared, units: Mask | None = None) -> AllianceRegressor:
        """Fit on prepared rows, or on those of the therapists marked in ``units``: from their
        blocks when the folds are by therapist, else refitted on their rows.

        ``data`` must come from ``_prepare`` of a model with these parameters (``n_bootstrap``
        aside): the prior and the held weights are read from it, not from this model.
        """
        rng = check_random_state(self.random_state)
        chosen = folds = None
        if data.sizes is not None:
            chosen = np.ones(len(data.sizes), dtype=bool) if units is None else units
            folds = self._therapist_folds(data.sizes[chosen])
        if units is not None and (folds is None or data.codes is None):
            if data.codes is None:
                raise ValueError("Fitting on some therapists needs groups.")
            rows = np.flatnonzero(units[data.codes])
            subset = (data.x[rows], data.target[rows], data.weight[rows], data.codes[rows])
            return self._fit_prepared(self._prepare(*subset))
        held, fixed = data.held, data.fixed
        prior = data.prior[~held]
        blocks = residual_blocks = None
        if chosen is not None and data.blocks is not None and data.residual_blocks is not None:
            blocks, residual_blocks = data.blocks[chosen], data.residual_blocks[chosen]
        penalty = self._therapist_penalty(data, chosen)
        if penalty is not None and blocks is not None and residual_blocks is not None:
            blocks = therapist_adjusted(blocks, penalty)
            residual_blocks = therapist_adjusted(residual_blocks, penalty)
        if folds is not None and blocks is not None and residual_blocks is not None:
            n_splits = int(folds.max()) + 1
            pairs = fold_pairs(blocks, folds, n_splits)
            prior_pairs = fold_pairs(residual_blocks, folds, n_splits)
            full = blocks.sum(axis=0)
        else:
            splits = self._splits(data.x, data.target, data.groups, data.codes, rng)
            pairs = self._row_pairs(data.z, data.weight, data.codes, penalty, splits)
            prior_pairs = self._row_pairs(data.residual, data.weight, data.codes, penalty, splits)
            full = sufficient_stats(data.z, data.weight) if blocks is None else blocks.sum(axis=0)
        alphas = self._alpha_grid(full, len(prior))
        mse, _, per_fold = self._cross_validate(pairs, alphas, prior, None)
        # With every weight held there is nothing to shrink: no penalty.
        alpha = self._choose_alpha(alphas, mse, per_fold) if len(prior) else 0.0
        intercept, coef = solve(full, alpha, prior)
        self.coef_ = np.where(held, fixed, 0.0)
        self.coef_[~held] = coef
        self.intercept_ = intercept + data.y_shift - float(data.x_shift @ coef)
        self.alpha_ = alpha
        # The weights in force with their own intercept if given (else the best one per fold).
        given = self.prior_intercept
        shifted = None if given is None else float(given) - data.residual_shift
        _, prior_mse, _ = self._cross_validate(prior_pairs, np.empty(0), np.empty(0), shifted)
        self.cv_results_ = {
            "alphas": alphas,
            "mean_mse": mse,
            "fold_mse": per_fold,
            "prior_mse": prior_mse,
        }
        p = len(held)
        if self.n_bootstrap:
            low, high = (1 - self.interval) / 2, (1 + self.interval) / 2
            draws = np.tile(np.where(held, fixed, 0.0), (int(self.n_bootstrap), 1))
            draws[:, ~held] = self._bootstrap(data.z, data.weight, blocks, alpha, prior, rng)
            self.coef_interval_ = np.quantile(draws, [low, high], axis=0).T
        else:
            self.coef_interval_ = np.full((p, 2), np.nan)
            self.coef_interval_[held] = fixed[held, None]
        return self

    def predict(self, X: Any) -> Floats:  # noqa: N803
        """Predicted early alliance: intercept + X @ coef."""
        check_is_fitted(self)
        x = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.intercept_ + x @ self.coef_, dtype=np.float64)
