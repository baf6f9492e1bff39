"""Alliance records: each rated therapist's early-alliance record, kept current per worker."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlmodel import Session

from matcher.core.learning import scale
from matcher.core.learning.record import estimate_records
from matcher.core.learning.scale import ReferralAlliance
from matcher.core.scoring import FEATURES, WeightSet
from matcher.core.scoring.index import Floats
from matcher.storage import outcomes as stored


def referral_alliance(session: Session) -> ReferralAlliance:
    """Every rated referral's mean early alliance, on the one scale shared by all instruments."""
    rows = stored.rating_scores(session)
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return scale.referral_alliance(*columns)


MATCH_FEATURES = tuple(name for name in FEATURES if name != "alliance")


def match_values(features: Mapping[str, float]) -> Floats:
    """A pair's match features (every feature but ``alliance``) as an array."""
    return np.array([float(features.get(name, 0.0)) for name in MATCH_FEATURES])


class AllianceRecordSource:
    """The ``alliance`` feature per rated therapist: its shrunken early-alliance record.

    A record is estimated from what each referral's alliance showed beyond the match features'
    part of the score under the model in force, at the values the pair had when it was matched.
    Otherwise a therapist the ranking lifts on its record alone, and so shown to less well-matched
    clients, would look worse than one shown only to well-matched clients.

    Ratings and referrals never change once stored, so each worker keeps what it has read and
    asks only for ratings stored at a newer alliance revision than the newest it holds
    (revisions commit in order); when the count of stored ratings up to that revision differs
    from what it holds, it reads everything again. Every call re-estimates all records from the
    arrays held.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._seen: set[str] = set()
        self._latest: int | None = None  # the newest alliance revision read
        self._referrals: dict[str, int] = {}
        self._therapists: dict[str, int] = {}
        self._instruments: dict[str, int] = {}
        self._referral_therapist = np.empty(0, dtype=np.intp)
        self._referral_values = np.empty((0, len(MATCH_FEATURES)))
        self._rating_referral = np.empty(0, dtype=np.intp)
        self._rating_instrument = np.empty(0, dtype=np.intp)
        self._rating_score = np.empty(0)

    def _read(self, session: Session) -> None:
        """Take in the ratings stored since the last read, and the referrals they belong to."""
        rows = stored.ratings_since(session, after=self._latest)
        rows = [r for r in rows if r[0] not in self._seen]
        if self._latest is None:
            self._latest = 0  # everything stored so far is read; ratings carry revisions >= 1
        if not rows:
            return
        fresh = list(dict.fromkeys(r[1] for r in rows if r[1] not in self._referrals))
        therapist_of = {r[1]: r[2] for r in rows}
        features = dict(stored.referral_features(session, fresh))
        codes = [self._therapists.setdefault(therapist_of[r], len(self._therapists)) for r in fresh]
        base = len(self._referrals)
        self._referrals.update((r, base + i) for i, r in enumerate(fresh))
        self._referral_therapist = np.concatenate(
            [self._referral_therapist, np.asarray(codes, dtype=np.intp)]
        )
        values = [match_values(features.get(r, {})) for r in fresh]
        self._referral_values = np.vstack([self._referral_values, *values])
        self._seen.update(r[0] for r in rows)
        revisions = [r[5] for r in rows if r[5] is not None]
        if revisions:
            self._latest = max(*revisions, self._latest)
        referrals = np.asarray([self._referrals[r[1]] for r in rows], dtype=np.intp)
        kinds = [self._instruments.setdefault(r[3], len(self._instruments)) for r in rows]
        self._rating_referral = np.concatenate([self._rating_referral, referrals])
        self._rating_instrument = np.concatenate(
            [self._rating_instrument, np.asarray(kinds, dtype=np.intp)]
        )
        self._rating_score = np.concatenate([self._rating_score, [float(r[4]) for r in rows]])

    def __call__(self, session: Session, weights: WeightSet) -> dict[str, float]:
        """Records for every rated therapist, beyond the match part of ``weights``."""
        self._read(session)
        # Only ratings this read could have seen are counted: one committed since (at a newer
        # revision) is picked up next time, not by reading everything again.
        if stored.rating_count(session, upto=self._latest) != len(self._seen):
            self._reset()  # something was missed (or removed): read everything again
            self._read(session)
        if not len(self._rating_score):
            return {}
        mean, _ = scale.referral_means(
            self._rating_referral, self._rating_instrument, self._rating_score, len(self._referrals)
        )
        expected = self._referral_values @ np.array([weights.weights[k] for k in MATCH_FEATURES])
        records = estimate_records(self._referral_therapist, mean - expected)
        names = list(self._therapists)
        return {names[int(code)]: v for code, v in records.feature_values().items()}

    def rated_referrals(self) -> dict[str, int]:
        """Each rated therapist's count of rated referrals, as read by the last call."""
        counts = np.bincount(self._referral_therapist, minlength=len(self._therapists))
        return dict(zip(self._therapists, counts.tolist(), strict=True))


def alliance_feature_values(session: Session, weights: WeightSet) -> dict[str, float]:
    """Every rated therapist's ``alliance`` feature, read afresh (``AllianceRecordSource``)."""
    return AllianceRecordSource()(session, weights)
