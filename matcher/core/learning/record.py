"""Each therapist's early-alliance record, shrunk toward the population mean (empirical Bayes).

Fair exposure (product.md): a therapist without ratings sits at the population prior, and one with
a few ratings moves only a little from it, because a dependable therapist-level alliance estimate
takes many cases (research.md). The model is one-way random effects: a referral's score is
mu + u_t + e with u_t ~ (0, tau^2) between therapists and e ~ (0, sigma^2) within. Scores are
the mean of a referral's ratings on the scale shared by all instruments (``learning.scale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.index import PRIOR_ALLIANCE, Floats

# Assumption, not a published figure: early WAI-SR ratings average about 4 of 5 per item, a total
# near 47, so (47 - 12) / 48 = 0.73 on 0..1. Used only before any rating exists.
PRIOR_MEAN = 0.73
# Assumption: the WAI-SR total's SD is about 7 points in clinical samples, 7 / 48 = 0.15 on 0..1.
# Used only when fewer than two ratings leave the spread unknown.
PRIOR_VARIANCE = 0.15**2
# Therapist effects are about 5% of outcome variance (Johns et al. 2019; 0.2-29%). tau^2 is kept at
# least at FLOOR_FACTOR times that share, so a handful of therapists cannot shrink every record all
# the way to the mean: with about 3 rated referrals per therapist the moment estimate is noisy.
# The factor is set by the family of worlds (``matcher simulate --worlds``, therapist shares 1% to
# 10%; bench/README.md), not by one world: 0.2 puts the floor at 1%, the bottom of the shares
# the family (and most of the studies Johns et al. review) span. On the family's 20 worlds,
# against the full 5% floor: the learned model's share of the best lift moved +3.5 points
# (true share 1.7%), +1.7 (2.0%), +0.4 (1.5%), -0.5 (3.5%) and -1.0 (6.2%, through the learner's
# penalty), 0 in the other fifteen; median and minimum unchanged; the learned model no longer
# falls below the default in any world (before: -0.5 in one). Half the share (0.5) gave the same.
THERAPIST_SHARE = 0.05
FLOOR_FACTOR = 0.2
# The scoring core has no span for the alliance feature, so it is set here: a shrunken record
# 0.1 above the mean (about 5 WAI-SR points) is feature 1, 0.1 below is feature 0.
ALLIANCE_SPAN = 0.2

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class AllianceRecords:
    """Shrunken early-alliance estimates per therapist, with the variance components behind them."""

    mean: float  # population mean mu (precision-weighted over therapists)
    between_var: float  # tau^2, between therapists
    within_var: float  # sigma^2, between referrals of one therapist
    therapist_ids: tuple[str, ...]
    n: IntArray  # rated referrals per therapist
    raw_mean: Floats
    shrinkage: Floats  # B_t = n_t tau^2 / (n_t tau^2 + sigma^2): the share of raw evidence kept
    estimate: Floats  # mu + B_t (raw_mean_t - mu)

    def feature_values(self) -> dict[str, float]:
        """The ``alliance`` feature per therapist: 0.5 (the prior) + deviation / ALLIANCE_SPAN."""
        values = np.clip(PRIOR_ALLIANCE + (self.estimate - self.mean) / ALLIANCE_SPAN, 0.0, 1.0)
        return dict(zip(self.therapist_ids, values.tolist(), strict=True))


def _validated(therapist_ids: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[Any, Floats]:
    ids = np.asarray(therapist_ids)
    values = np.asarray(scores, dtype=np.float64)
    if ids.ndim != 1 or values.ndim != 1 or len(ids) != len(values):
        raise ValueError("therapist_ids and scores must be 1-D and of the same length.")
    if not np.isfinite(values).all():
        raise ValueError("Alliance scores must be finite numbers.")
    return ids, values


def variance_components(groups: npt.ArrayLike, values: npt.ArrayLike) -> tuple[float, float]:
    """(tau^2, sigma^2) of one value per row grouped by therapist (``estimate_records``' estimator;
    the learner uses it for its therapist intercepts, so records and weights shrink alike)."""
    ids, scores = _validated(groups, values)
    if not len(scores):
        share = FLOOR_FACTOR * THERAPIST_SHARE
        return share * PRIOR_VARIANCE, (1 - share) * PRIOR_VARIANCE
    _, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.astype(np.int64)
    n = np.bincount(inverse).astype(np.int64)
    raw_mean = np.bincount(inverse, weights=scores) / n
    return _variance_components(n, raw_mean, scores, inverse)


def summed_variance_components(n: IntArray, sums: Floats, squares: Floats) -> tuple[float, float]:
    """``variance_components`` from each group's count, sum and sum of squares (every count > 0):
    what the learner keeps per therapist, so a subset of therapists needs no pass over rows."""
    rows = int(n.sum())
    if not rows:
        return variance_components(np.empty(0), np.empty(0))
    total = float(sums.sum())
    spread = (float(squares.sum()) - total**2 / rows) / (rows - 1) if rows >= 2 else PRIOR_VARIANCE
    raw_mean = sums / n
    within = float((squares - sums * raw_mean).sum())
    return _moments(n, raw_mean, spread, within, total / rows)


def _variance_components(
    n: IntArray, raw_mean: Floats, values: Floats, inverse: IntArray
) -> tuple[float, float]:
    """(tau^2, sigma^2) of the rows ``values`` in groups ``inverse``."""
    spread = float(values.var(ddof=1)) if len(values) >= 2 else PRIOR_VARIANCE
    within = float(((values - raw_mean[inverse]) ** 2).sum())
    return _moments(n, raw_mean, spread, within, float(values.mean()))


def _moments(
    n: IntArray, raw_mean: Floats, total_var: float, within_ss: float, grand: float
) -> tuple[float, float]:
    """(tau^2, sigma^2) by the method of moments for unbalanced one-way ANOVA, tau^2 floored."""
    rows, groups = int(n.sum()), len(n)
    floor = FLOOR_FACTOR * THERAPIST_SHARE * total_var
    if rows <= groups:  # nobody has two ratings: no within-therapist spread to separate
        return floor, max(total_var - floor, 0.0)
    within = within_ss / (rows - groups)
    if groups < 2:
        return floor, within
    between_ms = float((n * (raw_mean - grand) ** 2).sum() / (groups - 1))
    n0 = (rows - float((n.astype(np.float64) ** 2).sum()) / rows) / (groups - 1)
    tau2 = (between_ms - within) / n0
    return float(min(max(tau2, floor), max(total_var, floor))), within


def estimate_records(therapist_ids: npt.ArrayLike, scores: npt.ArrayLike) -> AllianceRecords:
    """Shrunken records from one row per rated referral (its mean early alliance on 0..1)."""
    ids, values = _validated(therapist_ids, scores)
    if not len(values):
        empty = np.empty(0)
        return AllianceRecords(
            mean=PRIOR_MEAN,
            between_var=FLOOR_FACTOR * THERAPIST_SHARE * PRIOR_VARIANCE,
            within_var=(1 - FLOOR_FACTOR * THERAPIST_SHARE) * PRIOR_VARIANCE,
            therapist_ids=(),
            n=np.empty(0, dtype=np.int64),
            raw_mean=empty,
            shrinkage=empty,
            estimate=empty,
        )
    unique, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.astype(np.int64)
    n = np.bincount(inverse).astype(np.int64)
    raw_mean = np.bincount(inverse, weights=values) / n
    tau2, sigma2 = _variance_components(n, raw_mean, values, inverse)
    # Precision weights 1 / (tau^2 + sigma^2 / n_t): a therapist with many ratings says more
    # about mu than one with a single rating. All ratings identical: both are zero.
    spread = tau2 + sigma2 / n
    if (spread > 0).all():
        mean = float(np.average(raw_mean, weights=1.0 / spread))
    else:
        mean = float(values.mean())
    signal = n * tau2
    shrinkage = np.divide(signal, signal + sigma2, out=np.zeros(len(n)), where=signal > 0)
    return AllianceRecords(
        mean=mean,
        between_var=tau2,
        within_var=sigma2,
        therapist_ids=tuple(str(t) for t in unique.tolist()),
        n=n,
        raw_mean=raw_mean,
        shrinkage=shrinkage,
        estimate=mean + shrinkage * (raw_mean - mean),
    )
