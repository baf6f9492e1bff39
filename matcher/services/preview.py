"""What-if preview: recorded intakes replayed under a candidate and under the model in force.

Both models score the same eligible therapists, screened once per intake by the engine
(``evaluate``) on the current matching index, so the only difference is the weights. What a
model "predicts" for a list is its own score, so each list's mean score is given under both
models' weights: a candidate always looks better by its own weights, and the model in force by
its own; which one to believe is what the held-out evaluation says.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from matcher import vocabulary as vocab
from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet, evaluate, scores, top
from matcher.core.scoring.index import Floats, Rows
from matcher.schemas.intake import normalise
from matcher.services.matching import Snapshot
from matcher.storage import outcomes as stored

DEFAULT_INTAKES = 500
MAX_INTAKES = 5000
TOP = 5  # the lists compared: what a directory page shows first
MOST_CHANGED = 5
MODELS = ("active", "candidate")

Intake = tuple[str, datetime, dict[str, Any]]  # (match id, when recorded, intake)


@dataclass(frozen=True)
class GroupExposure:
    """One therapist group's share of eligible places and of top-5 places under each model."""

    kind: str
    group: str
    therapists: int
    eligible_share: float
    active_share: float
    candidate_share: float

    @property
    def shift(self) -> float:
        """Candidate share minus active share of top-5 places."""
        return self.candidate_share - self.active_share


@dataclass(frozen=True)
class RankedTherapist:
    """A therapist in either top 5 of one intake: rank and score under each model, features."""

    therapist_id: str
    name: str
    rank: Mapping[str, int]  # among every eligible therapist, 1 = best
    score: Mapping[str, float]  # under each model's own weights
    features: Mapping[str, float]


@dataclass(frozen=True)
class ChangedIntake:
    """An intake whose top 5 changed most, named only by its place in the replay."""

    number: int  # 1 = the newest intake replayed
    recorded: datetime
    jurisdiction: str
    gave: list[str]  # which preferences the client gave (not what they were)
    entered: int  # therapists the candidate brings into the top 5
    rank_shift: float
    therapists: list[RankedTherapist]


@dataclass(frozen=True)
class Preview:
    """What a candidate would change over the replayed intakes."""

    active_version: int
    candidate_version: int
    intakes: int
    with_results: int
    lists_changed: int  # top 5 differs in members or order
    members_changed: int  # top 5 differs in who is in it
    mean_entered: float  # therapists new to the top 5, per intake
    mean_rank_shift: float  # |rank change| of the active top 5, averaged
    # predicted[list][weights]: mean score of each model's top 5 under each model's weights.
    predicted: Mapping[str, Mapping[str, float]]
    exposure: list[GroupExposure]
    most_changed: list[ChangedIntake]
    seconds: float


def _ranks_of(score: Floats, positions: Rows) -> npt.NDArray[np.intp]:
    """The 1-based rank of each position among all scores, ties going to the lower position."""
    mine = score[positions][:, None]
    ahead = (score[None, :] > mine) | (
        (score[None, :] == mine) & (np.arange(len(score))[None, :] < positions[:, None])
    )
    return np.asarray(ahead.sum(axis=1) + 1, dtype=np.intp)


def _groups(index: TherapistIndex, rated: set[str]) -> list[tuple[str, str, npt.NDArray[np.bool_]]]:
    """(kind, group, which index rows belong) for every group the preview reports on."""
    every = np.arange(len(index), dtype=np.intp)
    established = np.isin(index.ids, np.array(sorted(rated), dtype=np.str_))
    out = [
        ("History", "New: no ratings yet", ~established),
        ("History", "Established: has ratings", established),
    ]
    genders = index.column("gender")
    for code, label in vocab.GENDERS.items():
        out.append(("Gender", label, np.asarray(genders == _code(index, code), np.bool_)))
    out.append(("Gender", "Not stated", np.asarray(genders < 0, np.bool_)))
    for code, label in vocab.IDENTITIES.items():
        out.append(("Identity", label, index.has("identities", code, every)))
    return out


def _code(index: TherapistIndex, gender: str) -> int:
    """The gender's position in the index's table (-2 when no therapist has it)."""
    return int(index.table("gender").position.get(gender, -2))


def replay(
    index: TherapistIndex,
    intakes: Sequence[Intake],
    active: WeightSet,
    candidate: WeightSet,
    *,
    rated: set[str],
    most_changed: int = MOST_CHANGED,
) -> Preview:
    """Replay ``intakes`` under both weight sets with the engine's one scorer."""
    started = time.perf_counter()
    n = len(intakes)
    tops = {m: np.full((n, TOP), -1, dtype=np.intp) for m in MODELS}  # index rows, -1 = none
    predicted = np.zeros((n, 2, 2))  # [intake, list, weights]
    entered = np.zeros(n, dtype=np.intp)
    shift = np.zeros(n)
    listed = np.zeros(n, dtype=np.bool_)
    eligible_times = np.zeros(len(index))
    kept: dict[int, tuple[Any, Floats, Rows, Rows]] = {}
    for i, (_match_id, when, intake) in enumerate(intakes):
        found = evaluate(index, normalise(dict(intake)), active, limit=0, now=when)
        if not len(found.score):
            continue
        listed[i] = True
        np.add.at(eligible_times, found.screening.rows, 1)
        both = np.column_stack([found.score, scores(found.values, candidate)])
        a, c = top(both[:, 0], TOP), top(both[:, 1], TOP)
        tops["active"][i, : len(a)] = found.screening.rows[a]
        tops["candidate"][i, : len(c)] = found.screening.rows[c]
        predicted[i] = [both[a].mean(axis=0), both[c].mean(axis=0)]
        entered[i] = len(set(c.tolist()) - set(a.tolist()))
        moved = _ranks_of(both[:, 1], a) - np.arange(1, len(a) + 1)
        shift[i] = float(np.abs(moved).mean())
        if entered[i] or shift[i]:
            kept[i] = (found, both, a, c)
    with_results = int(listed.sum())
    changed_order = (tops["active"] != tops["candidate"]).any(axis=1)
    same_members = np.array(
        [set(tops["active"][i].tolist()) == set(tops["candidate"][i].tolist()) for i in range(n)],
        dtype=np.bool_,
    )
    means = predicted[listed].mean(axis=0) if with_results else np.zeros((2, 2))
    worst = sorted(kept, key=lambda i: (-entered[i], -shift[i], i))[:most_changed]
    return Preview(
        active_version=active.version,
        candidate_version=candidate.version,
        intakes=n,
        with_results=with_results,
        lists_changed=int(changed_order.sum()),
        members_changed=int((~same_members).sum()),
        mean_entered=float(entered[listed].mean()) if with_results else 0.0,
        mean_rank_shift=float(shift[listed].mean()) if with_results else 0.0,
        predicted={
            lst: {w: float(means[li, wi]) for wi, w in enumerate(MODELS)}
            for li, lst in enumerate(MODELS)
        },
        exposure=_exposure(index, rated, tops, eligible_times),
        most_changed=[
            _changed(index, i, intakes[i], *kept[i], entered=int(entered[i]), shift=shift[i])
            for i in worst
        ],
        seconds=time.perf_counter() - started,
    )


def _exposure(
    index: TherapistIndex,
    rated: set[str],
    tops: Mapping[str, npt.NDArray[np.intp]],
    eligible_times: Floats,
) -> list[GroupExposure]:
    """Each group's share of eligible places and of the top-5 places under each model."""
    places = {m: np.bincount(t[t >= 0], minlength=len(index)) for m, t in tops.items()}
    totals = {m: max(int(p.sum()), 1) for m, p in places.items()}
    eligible_total = max(float(eligible_times.sum()), 1.0)
    out = []
    for kind, group, members in _groups(index, rated):
        if not members.any():
            continue
        out.append(
            GroupExposure(
                kind=kind,
                group=group,
                therapists=int(members.sum()),
                eligible_share=float(eligible_times[members].sum()) / eligible_total,
                active_share=float(places["active"][members].sum()) / totals["active"],
                candidate_share=float(places["candidate"][members].sum()) / totals["candidate"],
            )
        )
    return out


def _changed(
    index: TherapistIndex,
    number: int,
    intake: Intake,
    found: Any,
    both: Floats,
    a: Rows,
    c: Rows,
    *,
    entered: int,
    shift: float,
) -> ChangedIntake:
    """One intake's two top 5s side by side, with every therapist's feature values."""
    _match_id, when, raw = intake
    positions = np.array(list(dict.fromkeys([*a.tolist(), *c.tolist()])), dtype=np.intp)
    ranks = {m: _ranks_of(both[:, k], positions) for k, m in enumerate(MODELS)}
    rows = found.screening.rows[positions]
    therapists = [
        RankedTherapist(
            therapist_id=str(index.ids[row]),
            name=str(index.names[row]),
            rank={m: int(ranks[m][j]) for m in MODELS},
            score={m: float(both[pos, k]) for k, m in enumerate(MODELS)},
            features=dict(zip(FEATURES, found.values[pos].tolist(), strict=True)),
        )
        for j, (pos, row) in enumerate(zip(positions.tolist(), rows.tolist(), strict=True))
    ]
    therapists.sort(key=lambda t: (min(t.rank.values()), t.rank["active"]))
    gave = [k for k, v in raw.items() if k != "jurisdiction" and v not in (None, [], {}, False)]
    return ChangedIntake(
        number=number + 1,
        recorded=when,
        jurisdiction=str(raw.get("jurisdiction", "")),
        gave=sorted(gave),
        entered=entered,
        rank_shift=shift,
        therapists=therapists,
    )


def preview(
    session: Session, *, snapshot: Snapshot, candidate: WeightSet, intakes: int = DEFAULT_INTAKES
) -> Preview:
    """Replay the newest ``intakes`` recorded intakes under ``candidate`` and the model in force."""
    recent = stored.recent_intakes(session, limit=max(1, min(intakes, MAX_INTAKES)))
    rated = stored.rated_therapist_ids(session)
    return replay(snapshot.index, recent, snapshot.weights, candidate, rated=rated)
