"""One alliance scale for every instrument: each rating's normal score within its instrument.

The contract's 0..1 score is not comparable across instruments (SRS marks sit near 9 of 10, WAI-SR
items near 4 of 5), and ratings pile up at the top of both scales (ceiling effects; Meier & Feeley
2022), which squeezes the differences among good alliances into a few points. research.md reads
alliance as a latent normal cut into ordinal categories, so learning and therapist records use
each rating's normal score within its instrument (Blom 1958: rank r of n, tied ratings sharing
their mean rank, z = Phi^-1((r - 3/8) / (n + 1/4))), put back on the WAI-SR 0..1 scale as
``CENTRE + SPREAD * z``. The transform is monotone within an instrument, so no rating changes
place among its own instrument's ratings; it is recomputed from every stored rating each time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri
from scipy.stats import rankdata

from matcher.core.scoring.index import Floats

# Assumptions (learning/record.py): early WAI-SR ratings average about 0.73 on 0..1 with an SD of
# about 0.15 (7 of 48 points); a rating's normal score z is read as CENTRE + SPREAD * z.
CENTRE = 0.73
SPREAD = 0.15


def normal_scores(instruments: npt.ArrayLike, scores: npt.ArrayLike) -> Floats:
    """Each rating as CENTRE + SPREAD * its Blom normal score among its instrument's ratings."""
    kinds = np.asarray(instruments)
    values = np.asarray(scores, dtype=np.float64)
    if kinds.shape != values.shape or values.ndim != 1:
        raise ValueError("instruments and scores must be 1-D and of the same length.")
    if not np.isfinite(values).all():
        raise ValueError("Alliance scores must be finite numbers.")
    z = np.zeros(len(values))
    for kind in np.unique(kinds):
        rows = kinds == kind
        n = int(rows.sum())
        z[rows] = ndtri((rankdata(values[rows]) - 0.375) / (n + 0.25))
    return CENTRE + SPREAD * z


@dataclass(frozen=True)
class ReferralAlliance:
    """Per rated referral (sorted by id): its mean rating on the common scale and how many."""

    referral_ids: npt.NDArray[np.str_]
    therapist_ids: npt.NDArray[np.str_]
    mean: Floats
    ratings: npt.NDArray[np.int64]


def referral_means(
    referral_codes: npt.NDArray[np.intp], instruments: npt.ArrayLike, scores: npt.ArrayLike, n: int
) -> tuple[Floats, npt.NDArray[np.int64]]:
    """Per referral code 0..n-1: the mean of its ratings on the common scale, and how many."""
    common = normal_scores(instruments, scores)
    counts = np.bincount(referral_codes, minlength=n).astype(np.int64)
    mean = np.bincount(referral_codes, weights=common, minlength=n) / np.maximum(counts, 1)
    return mean, counts


def referral_alliance(
    referral_ids: npt.ArrayLike,
    therapist_ids: npt.ArrayLike,
    instruments: npt.ArrayLike,
    scores: npt.ArrayLike,
) -> ReferralAlliance:
    """Average each referral's ratings (sessions 1..3) after putting them on the common scale."""
    referrals = np.asarray(referral_ids, dtype=np.str_)
    therapists = np.asarray(therapist_ids, dtype=np.str_)
    if referrals.shape != np.shape(scores) or therapists.shape != np.shape(scores):
        raise ValueError("One referral id and one therapist id are needed per rating.")
    unique, first, inverse = np.unique(referrals, return_index=True, return_inverse=True)
    mean, counts = referral_means(inverse.astype(np.intp), instruments, scores, len(unique))
    return ReferralAlliance(
        referral_ids=unique,
        therapist_ids=therapists[first],
        mean=mean,
        ratings=counts,
    )
