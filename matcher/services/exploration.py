"""Exploration: which eligible therapists an exploring match shows, and each one's exact chance.

- ``uniform``: a uniform random sample of ``k`` eligible therapists; each is shown with
  probability ``k / eligible``.
- ``uncertainty``: aimed at what is least known. Each eligible therapist weighs
  ``1 / sqrt(1 + n)`` for its ``n`` rated referrals (a record's standard error falls about as
  ``1 / sqrt(n)``), and ``k`` are drawn without replacement by randomised systematic sampling
  with probability proportional to size (Madow 1949, on a random order of the pool). Inclusion
  probabilities are ``pi_i = min(1, c * w_i)``, with ``c`` set so they sum to ``k`` (therapists
  whose share would pass 1 are taken for certain and the rest share what is left); systematic
  sampling includes each therapist with exactly ``pi_i`` whatever the order, so the logged
  chance is exact. A pool where nobody is rated is sampled with ``k / eligible`` each, as
  uniform. Pairs the ranking rarely shows are explored as under uniform: the sample is over the
  whole eligible pool, not the ranking's top.

Either way the shown sample is put in random order, so a result's position says nothing about
which therapist it is.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.index import Floats

POLICIES = ("uniform", "uncertainty")

Rows = npt.NDArray[np.intp]


def uncertainty_weight(rated_referrals: Floats) -> Floats:
    """How little is known of each therapist: ``1 / sqrt(1 + rated referrals)``."""
    return 1.0 / np.sqrt(1.0 + np.asarray(rated_referrals, dtype=np.float64))


def inclusion_probabilities(weights: Floats, k: int) -> Floats:
    """``min(1, c * w_i)`` summing to ``k`` (all 1 when ``k`` covers the pool)."""
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    if k >= n:
        return np.ones(n)
    pi = np.zeros(n)
    if k <= 0:
        return pi
    certain = np.zeros(n, dtype=np.bool_)
    while True:  # at most k rounds: each one takes at least one more therapist for certain
        left = k - int(certain.sum())
        total = float(w[~certain].sum())
        pi = np.where(certain, 1.0, left * w / total)
        over = ~certain & (pi >= 1.0)
        if not over.any():
            return pi
        certain |= over


def systematic_sample(pi: Floats, rng: np.random.Generator) -> Rows:
    """Rows drawn by systematic sampling on a random order: row i is in with chance ``pi[i]``.

    ``pi`` must sum to an integer ``k``; exactly ``k`` distinct rows come back, in random order.
    """
    k = round(float(pi.sum()))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    order = rng.permutation(len(pi))
    edges = np.cumsum(pi[order])
    edges *= k / edges[-1]  # the last edge exactly k, whatever the rounding
    points = rng.random() + np.arange(k)
    picked = order[np.minimum(np.searchsorted(edges, points, side="right"), len(pi) - 1)]
    return rng.permutation(picked)


def chances(policy: str, k: int, rated_referrals: Floats) -> Floats:
    """Each eligible therapist's chance of being shown when the match explores and shows ``k``.

    ``rated_referrals`` holds one count per eligible therapist; ``uniform`` ignores it.
    """
    eligible = len(rated_referrals)
    if policy == "uniform":
        return np.full(eligible, k / eligible)
    if policy != "uncertainty":
        raise ValueError(f"exploration policy must be one of {', '.join(POLICIES)}")
    return inclusion_probabilities(uncertainty_weight(rated_referrals), k)


def draw(policy: str, chance: Floats, k: int, rng: np.random.Generator) -> Rows:
    """What an exploring match shows: positions in the pool, in the order shown."""
    if policy == "uniform":
        return rng.permutation(len(chance))[:k]
    return systematic_sample(chance, rng)
