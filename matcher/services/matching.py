"""The match service: one index per process, kept current with the directory and the model."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from matcher.core.scoring import (
    FEATURES,
    ClientQuery,
    Evaluation,
    MatchOutcome,
    TherapistIndex,
    WeightSet,
    instant,
    load_default,
    scores,
    shortlist,
    top,
)
from matcher.core.scoring.features import feature_matrix
from matcher.core.scoring.index import Bools, Floats, Rows
from matcher.schemas.intake import normalise
from matcher.services import apart
from matcher.services import exploration as exploring
from matcher.services import freshness as fresh
from matcher.services.exposure import exposure_counts
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.database import Database

log = logging.getLogger(__name__)

# How many of the best-scored eligible therapists are kept with a recorded match (with their
# features at match time), so that a referral to any of them learns from what was known then.
RECORDED_CANDIDATES = 100
# The exposure audit counts who reached the first page: the top 5 shown.
TOP_EXPOSURE = 5

WeightSource = Callable[[Session], WeightSet]


class AllianceSource(Protocol):
    """Rated therapists' alliance records, and how many rated referrals each rests on."""

    def __call__(self, session: Session, weights: WeightSet) -> Mapping[str, float]:
        """Each rated therapist's record beyond the match part of ``weights``."""

    def rated_referrals(self) -> Mapping[str, int]:
        """Each rated therapist's count of rated referrals, as of the last call."""


def release_freed_memory() -> None:
    """Hand the heap the build freed back to the system (glibc keeps it otherwise)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def default_weights(_session: Session) -> WeightSet:
    """Version 1: the default weights shipped in ``models/default.json``."""
    return load_default()


@dataclass(frozen=True)
class Candidate:
    """A therapist kept with a recorded match: shown or not, with its chance of being shown."""

    therapist_id: str
    rank: int | None
    score: float
    propensity: float
    features: dict[str, float]
    exploration_propensity: float  # its chance of being shown when the match explores


@dataclass(frozen=True)
class Snapshot:
    """What one match runs on: an index and a weight set, never changed once taken."""

    index: TherapistIndex
    weights: WeightSet
    revisions: Mapping[str, int]
    rated: frozenset[str] = frozenset()  # therapists with ratings (the rest are "new")
    rated_rows: Bools | None = None  # the same as a mask over the index's rows
    referral_counts: Mapping[str, int] = field(default_factory=dict)  # rated referrals each
    referral_rows: Floats | None = None  # the same per row of the index (0 for the unrated)


@dataclass(frozen=True)
class RecordedMatch:
    """What a recorded match showed and what it keeps for learning."""

    outcome: MatchOutcome
    snapshot: Snapshot
    candidates: list[Candidate]
    explored: bool
    feature_means: dict[str, float] | None
    exposure: dict[str, dict[str, int]] | None = None  # per-group counts for the audit


# A recorded match keeps the mean features of its eligible pool (learning's baseline). Up to
# this many eligible therapists the pool is scored whole; beyond, only the contenders for the
# kept candidates are, and the means come from an evenly spaced sample of this many (rows are
# in id order, which says nothing about fit): within about 0.3 / sqrt(MEANS_SAMPLE) = 0.007 of
# the whole pool's on features bounded to [0, 1].
MEANS_SAMPLE = 2_000


def referrals_per_row(ids: npt.NDArray[np.str_], counts: Mapping[str, int]) -> Floats:
    """Each index row's count of rated referrals (0 for a therapist nobody rated)."""
    if not counts:
        return np.zeros(len(ids))
    names = np.array(list(counts), dtype=np.str_)
    values = np.array(list(counts.values()), dtype=np.float64)
    order = np.argsort(names)
    names, values = names[order], values[order]
    at = np.minimum(np.searchsorted(names, ids), len(names) - 1)
    return np.where(names[at] == ids, values[at], 0.0)


def _kept_values(
    index: TherapistIndex,
    q: ClientQuery,
    rows: Rows,
    positions: Rows,
    best: Rows,
    best_values: Floats,
    when: datetime,
) -> Floats:
    """Feature rows for the kept eligible ``positions``: the best's (``best``, scored in full
    by the shortlist as ``best_values``) reused, the others kept (an explored sample, a
    waitlist's choice) computed."""
    order = np.argsort(best)
    sorted_best = best[order]
    at = np.minimum(np.searchsorted(sorted_best, positions), len(sorted_best) - 1)
    scored = sorted_best[at] == positions
    values = np.empty((len(positions), best_values.shape[1]))
    values[scored] = best_values[order[at[scored]]]
    if not scored.all():
        values[~scored] = feature_matrix(index, q, rows[positions[~scored]], when)
    return values


def recorded(
    snap: Snapshot,
    freshness: fresh.Freshness,
    intake: Mapping[str, Any],
    *,
    limit: int,
    exploration: float,
    rng: np.random.Generator,
    now: datetime | None = None,
    chosen: str | None = None,
    exploration_policy: str = "uniform",
    means_sample: int = MEANS_SAMPLE,
) -> RecordedMatch:
    """``MatchService.match_for_record`` on a given snapshot and stale policy."""
    index, weights, when = snap.index, snap.weights, instant(now)
    q = ClientQuery.from_intake(normalise(dict(intake)))
    screening, stale = fresh.screened(index, q, when, limit, freshness)
    rows = screening.rows
    eligible = len(rows)
    if eligible <= means_sample:
        # A pool this small is scored whole: its means are exact and cost nothing more.
        values = feature_matrix(index, q, rows, when, screening.known)
        whole = Evaluation(index, q, when, weights, screening, values, scores(values, weights))
        greedy = fresh.policy_order(whole.score, stale, limit, freshness)
        if eligible == 0:
            return RecordedMatch(whole.outcome(greedy), snap, [], False, None)
        means = whole.values.mean(axis=0)
    else:
        # The best by score, scored in full only for the contenders.
        kept_top = max(limit, RECORDED_CANDIDATES)
        best_of = shortlist(index, q, screening, weights, when, kept_top)
        best_order = top(best_of.score, kept_top)
        best = np.searchsorted(rows, best_of.screening.rows[best_order])
        if freshness.policy == "rank_after" and stale.any():
            # The stale policy first: "greedy" is the ranking as the policy orders it.
            ranked, order, _ = fresh.policy_top(
                index, q, screening, stale, weights, when, limit, freshness
            )
            greedy = np.searchsorted(rows, ranked.screening.rows[order])
        else:  # the policy's ranking is the score's: its top is the best's first
            greedy = best[:limit]
        sample = rows[np.linspace(0, eligible - 1, means_sample).astype(np.intp)]
        means = feature_matrix(index, q, sample, when).mean(axis=0)
        whole = None
    explore = exploration > 0 and rng.random() < exploration
    k = len(greedy)
    counts = snap.referral_rows[rows] if snap.referral_rows is not None else np.zeros(eligible)
    chance = exploring.chances(exploration_policy, k, counts)  # P(shown | explores)
    shown = exploring.draw(exploration_policy, chance, k, rng) if explore else greedy
    # P(shown) under this policy: the ranking's top with 1 - exploration, the exploring
    # sample of k eligible therapists with exploration (uniform: as it always was).
    if exploration_policy == "uniform":
        propensity = np.full(eligible, exploration * k / eligible)
    else:
        propensity = exploration * chance
    propensity[greedy] += 1 - exploration
    if whole is not None:
        best = np.lexsort((np.arange(eligible), -whole.score))
    kept = set(best[:RECORDED_CANDIDATES].tolist()) | set(shown.tolist())
    if chosen is not None and chosen in index.rows:
        at = int(np.searchsorted(rows, index.rows[chosen]))
        if at < eligible and rows[at] == index.rows[chosen]:
            kept.add(at)
            propensity[at] = chance[at] = 1.0
    positions = np.array(sorted(kept), dtype=np.intp)
    if whole is not None:
        values = whole.values[positions]
    else:
        values = _kept_values(index, q, rows, positions, best, best_of.values[best_order], when)
    evaluation = Evaluation(
        index,
        q,
        when,
        weights,
        replace(screening, rows=rows[positions], known={}),
        values,
        scores(values, weights),
    )
    at_kept = np.searchsorted(positions, shown)
    outcome = evaluation.outcome(at_kept, eligible)
    outcome = fresh.explained(outcome, evaluation, at_kept, stale[positions], freshness)
    rank = dict(zip(shown.tolist(), range(1, len(shown) + 1), strict=True))
    candidates = [
        Candidate(
            therapist_id=therapist_id,
            rank=rank.get(i),
            score=score,
            propensity=float(propensity[i]),
            features=dict(zip(FEATURES, valued, strict=True)),
            exploration_propensity=float(chance[i]),
        )
        for i, therapist_id, score, valued in zip(
            positions.tolist(),
            index.ids[rows[positions]].tolist(),
            evaluation.score.tolist(),
            values.tolist(),
            strict=True,
        )
    ]
    exposure = exposure_counts(
        index, rows, rows[shown[:TOP_EXPOSURE]], snap.rated_rows, q.jurisdiction
    )
    pool = dict(zip(FEATURES, means.tolist(), strict=True))
    return RecordedMatch(outcome, snap, candidates, explore, pool, exposure)


class MatchService:
    """Serves matches from an in-memory index, refreshed when a write bumps a revision.

    Every request reads the revision counters (one small query). When the directory revision
    moved, only the therapists written since are re-encoded and patched in; when the model
    revision moved, the active weights are reloaded. So after a profile write or a model
    activation returns, every worker's next match uses it.
    """

    def __init__(
        self,
        db: Database,
        *,
        weights: WeightSource = default_weights,
        alliance: AllianceSource | None = None,
        freshness: fresh.Freshness | None = None,
    ) -> None:
        self.db = db
        self._revisions = counters.RevisionReader(db.engine)
        self.freshness = freshness or fresh.Freshness()
        # The first build in a forked child (``apart``): set by a server before it forks.
        self.build_apart = False
        self._weights_source = weights
        self._alliance_source = alliance
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    @property
    def loaded(self) -> bool:
        """Whether the index has been built."""
        return self._snapshot is not None

    def snapshot(self) -> Snapshot:
        """The current index and weights, refreshed first if the database moved on."""
        revisions = self._revisions.read()
        current = self._snapshot
        if current is not None and current.revisions == revisions:
            return current
        with self._lock:
            current = self._snapshot
            if current is None or current.revisions != revisions:
                current = self._refresh(current, revisions)
                self._snapshot = current
            return current

    def _refresh(self, current: Snapshot | None, revisions: Mapping[str, int]) -> Snapshot:
        started = time.perf_counter()
        with self.db.session() as session:
            directory = revisions.get(counters.DIRECTORY, 0)
            if current is None and self.build_apart:
                index = apart.build_apart(self.db)
                changed = len(index)
            elif current is None:
                # Streamed: the build holds one chunk of profile objects at a time.
                index = TherapistIndex.build(stored.active_profiles(session))
                changed = len(index)
            else:
                index, changed = current.index, 0
                seen = current.revisions.get(counters.DIRECTORY, 0)
                if directory != seen:
                    latest = dict(stored.changed_since(session, revision=seen))
                    upserts = [p for p in latest.values() if p is not None]
                    removed = [k for k, p in latest.items() if p is None]
                    index = index.with_changes(upserts, removed)
                    changed = len(latest)
            model_changed = current is None or current.revisions.get(
                counters.MODELS
            ) != revisions.get(counters.MODELS)
            weights = self._weights_source(session) if model_changed else current.weights  # type: ignore[union-attr]
            rated = current.rated if current is not None else frozenset()
            counted = current.referral_counts if current is not None else {}
            # Records are what the ratings show beyond the active model's match features, so
            # they are re-estimated when ratings arrive and when another model is activated.
            if self._alliance_source is not None:
                alliance_changed = current is None or current.revisions.get(
                    counters.ALLIANCE
                ) != revisions.get(counters.ALLIANCE)
                if alliance_changed or model_changed:
                    records = self._alliance_source(session, weights)
                    index = index.with_alliance(records)
                    rated = frozenset(records)
                    counted = dict(self._alliance_source.rated_referrals())
        if current is None:
            release_freed_memory()
        log.info(
            "matching index refreshed: %d therapists, %d changed, model v%d, %.0f ms",
            len(index),
            changed,
            weights.version,
            (time.perf_counter() - started) * 1000,
        )
        # One mask per refresh, so a recorded match counts its new therapists without lookups.
        rated_rows = np.isin(index.ids, np.array(sorted(rated), dtype=np.str_))
        return Snapshot(
            index,
            weights,
            dict(revisions),
            rated,
            rated_rows,
            counted,
            referrals_per_row(index.ids, counted),
        )

    def match(
        self, intake: Mapping[str, Any], *, limit: int = 10, now: datetime | None = None
    ) -> tuple[MatchOutcome, Snapshot]:
        """Rank therapists for a validated intake, with the snapshot that ranked them."""
        snap = self.snapshot()
        evaluation, shown, stale, eligible = fresh.shortlisted(
            snap.index, normalise(dict(intake)), snap.weights, limit, instant(now), self.freshness
        )
        outcome = evaluation.outcome(shown, eligible)
        return fresh.explained(outcome, evaluation, shown, stale, self.freshness), snap

    def match_for_record(
        self,
        intake: Mapping[str, Any],
        *,
        limit: int,
        exploration: float,
        rng: np.random.Generator,
        now: datetime | None = None,
        chosen: str | None = None,
        exploration_policy: str = "uniform",
    ) -> RecordedMatch:
        """A match to be recorded: the outcome shown, the candidates kept, whether it explored.

        With probability ``exploration`` the results shown are a random sample of the eligible
        therapists drawn by ``exploration_policy`` (``exploration.POLICIES``: uniform, or aimed
        at therapists with few rated referrals), in random order, so that learning keeps seeing
        pairs the ranking would not show. Every kept candidate carries the probability that it
        was shown under this policy, for inverse-propensity weighting, and the probability that
        it was shown given that the match explored, for off-policy evaluation. ``chosen`` (an
        eligible therapist a waitlist assignment picked for this client) is kept too, with both
        propensities 1: the assignment chose it for certain.
        """
        return recorded(
            self.snapshot(),
            self.freshness,
            intake,
            limit=limit,
            exploration=exploration,
            rng=rng,
            now=now,
            chosen=chosen,
            exploration_policy=exploration_policy,
        )

    def readiness(self) -> str:
        """Readiness check: "ok" when the index is loaded (loading it if need be)."""
        try:
            self.snapshot()
        except Exception as err:
            log.exception("matching index failed to load")
            return f"matching index not loaded: {type(err).__name__}"
        return "ok"


def answer(outcome: MatchOutcome, weights: WeightSet, match_id: str | None) -> dict[str, Any]:
    """A match outcome as plain data: what the API returns and what a recorded match keeps."""
    return {
        "match_id": match_id,
        "model": {"version": weights.version, "intercept": weights.intercept},
        "eligible": outcome.eligible,
        "excluded": outcome.excluded,
        "relaxations": outcome.relaxations,
        "results": [
            {
                "rank": r.rank,
                "therapist_id": r.therapist_id,
                "name": r.name,
                "score": r.score,
                "contributions": r.contributions,
                "features": r.features,
                "reasons": r.reasons,
                "accepting_confirmed_at": r.accepting_confirmed_at,
            }
            for r in outcome.results
        ],
        "warnings": outcome.warnings,
    }
