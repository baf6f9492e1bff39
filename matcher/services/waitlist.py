"""Waitlist assignment: every waiting client at once, no therapist over its open slots.

Clinics matching one client at a time let the first clients take the therapists later ones
needed most (the only Spanish speaker, the only evening slots). Here every client is screened and
scored once by the engine (the one scorer), the best total of predicted early alliance is found
exactly (core/assignment), and greedy's total is given beside it for comparison. Committing
records each placed client's match and refers it through the usual services, in the caller's one
transaction, so a refused referral leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.core.assignment import UNASSIGNED, Problem, greedy, optimal
from matcher.core.assignment.scoring import BatchScorer, Scored
from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet
from matcher.core.scoring.filters import screen
from matcher.schemas.intake import normalise
from matcher.services import recording, referrals
from matcher.services.errors import Conflict, Invalid
from matcher.services.matching import MatchService
from matcher.services.organisations import DEFAULT_ORGANISATION
from matcher.storage import outcomes as stored

MAX_CLIENTS = 2000
RECORDED_LIMIT = 10  # results kept as "shown" with each committed client's recorded match
NO_SLOT = "no eligible therapist with an open slot"


@dataclass(frozen=True)
class WaitingClient:
    """One client on the waitlist: an opaque reference, the intake, its earlier match if any."""

    client_ref: str
    intake: Mapping[str, Any]
    match_id: str | None = None  # a recorded match this assignment replaces
    waiting_since: datetime | None = None


@dataclass(frozen=True)
class Placement:
    """A client placed with a therapist: the score, what each feature added, and why."""

    client_ref: str
    therapist_id: str
    name: str
    score: float
    contributions: dict[str, float]
    reasons: list[str] | None  # None unless asked for: explaining costs a third of the time


@dataclass(frozen=True)
class Unplaced:
    """A client left waiting, and why."""

    client_ref: str
    reason: str


@dataclass(frozen=True)
class GreedyChoice:
    """What first come, first served would have given one client (None: nobody)."""

    client_ref: str
    therapist_id: str | None
    name: str | None
    score: float | None


@dataclass(frozen=True)
class Proposal:
    """The assignment with the best total, and greedy's beside it."""

    model_version: int
    intercept: float
    assignments: list[Placement]
    unassigned: list[Unplaced]
    total_score: float
    greedy_total_score: float
    greedy: list[GreedyChoice]  # one per client, in waitlist order
    eligible: list[int]  # eligible therapists per client, in waitlist order
    seconds: float

    @property
    def placed(self) -> int:
        """How many clients the assignment places."""
        return len(self.assignments)

    @property
    def greedy_placed(self) -> int:
        """How many clients greedy would have placed."""
        return sum(1 for g in self.greedy if g.therapist_id is not None)


def _distinct(clients: Sequence[WaitingClient]) -> None:
    """Refuse a waitlist naming one client twice (one client gets at most one therapist)."""
    seen: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for i, client in enumerate(clients):
        if client.client_ref in seen:
            errors[f"clients[{i}].client_ref"] = [
                f"Also at clients[{seen[client.client_ref]}]; list each client once."
            ]
        seen.setdefault(client.client_ref, i)
    if len(clients) > MAX_CLIENTS:
        errors["clients"] = [f"At most {MAX_CLIENTS} clients in one assignment."]
    if errors:
        raise Invalid("The waitlist is not valid.", errors)


def _why_waiting(index: TherapistIndex, scored: Scored, when: datetime) -> str:
    """Why a client is left waiting: every slot it could take went to others, or a filter."""
    if len(scored.rows):
        return NO_SLOT
    # Rare (a client nobody can take), so the engine's full screening names the filter.
    excluded = screen(index, scored.query, when)
    names = list(excluded.excluded)
    if not names or names[-1] == "capacity":
        return NO_SLOT
    return f"no eligible therapist: none is left after the {names[-1].replace('_', ' ')} filter"


def propose(
    *,
    matching: MatchService,
    clients: Sequence[WaitingClient],
    explain: bool = False,
    now: datetime | None = None,
) -> Proposal:
    """Assign a waitlist for the best total predicted early alliance, greedy beside it."""
    snap = matching.snapshot()
    return assign(snap.index, snap.weights, clients, explain=explain, now=now)


def assign(
    index: TherapistIndex,
    weights: WeightSet,
    clients: Sequence[WaitingClient],
    *,
    explain: bool = False,
    now: datetime | None = None,
) -> Proposal:
    """The proposal on a given index and weights (what ``propose`` and the benchmark run).

    Every placement carries its contributions; ``explain`` adds the reasons in words.
    """
    _distinct(clients)
    started = time.perf_counter()
    scorer = BatchScorer.at(index, weights, now)
    evaluations = [scorer.score(normalise(dict(c.intake))) for c in clients]
    slots = np.where(index.column("accepting"), index.column("capacity"), 0)
    problem = Problem.build(np.maximum(slots, 0), [(e.rows, e.score) for e in evaluations])
    first_come = greedy(problem)
    best = optimal(problem, prefer=first_come)
    seconds = time.perf_counter() - started
    assignments: list[Placement] = []
    unassigned: list[Unplaced] = []
    choices: list[GreedyChoice] = []
    for client, evaluation, row, baseline in zip(
        clients, evaluations, best.tolist(), first_come.tolist(), strict=True
    ):
        rows = evaluation.rows
        if row == UNASSIGNED:
            why = _why_waiting(index, evaluation, scorer.when)
            unassigned.append(Unplaced(client.client_ref, why))
        else:
            at = int(np.searchsorted(rows, row))
            contributions = weights.vector() * evaluation.values[at]
            reasons = scorer.reasons(evaluation, at) if explain else None
            assignments.append(
                Placement(
                    client_ref=client.client_ref,
                    therapist_id=str(index.ids[row]),
                    name=str(index.names[row]),
                    score=float(evaluation.score[at]),
                    contributions=dict(zip(FEATURES, contributions.tolist(), strict=True)),
                    reasons=reasons,
                )
            )
        if baseline == UNASSIGNED:
            choices.append(GreedyChoice(client.client_ref, None, None, None))
        else:
            at = int(np.searchsorted(rows, baseline))
            choices.append(
                GreedyChoice(
                    client.client_ref,
                    str(index.ids[baseline]),
                    str(index.names[baseline]),
                    float(evaluation.score[at]),
                )
            )
    return Proposal(
        model_version=weights.version,
        intercept=weights.intercept,
        assignments=assignments,
        unassigned=unassigned,
        total_score=sum(p.score for p in assignments),
        greedy_total_score=sum(g.score for g in choices if g.score is not None),
        greedy=choices,
        eligible=[len(e.rows) for e in evaluations],
        seconds=seconds,
    )


def commit(
    session: Session,
    *,
    matching: MatchService,
    clients: Sequence[WaitingClient],
    key_id: str,
    explain: bool = False,
    expected: Mapping[str, str | None] | None = None,
    now: datetime | None = None,
    organisation_id: str = DEFAULT_ORGANISATION,
) -> tuple[Proposal, dict[str, str]]:
    """Assign a waitlist and take the slots: (the proposal, referral id per placed client).

    Each placed client gets a recorded match (replacing its earlier one, if given) and a
    referral to its therapist, in the caller's transaction: a referral refused because another
    request took the slot first raises, and the caller's rollback leaves nothing recorded.
    ``expected`` (client_ref -> therapist id or None) is what a person confirmed: when the
    directory moved since and the assignment differs, nothing is written (Conflict).
    """
    proposal = propose(matching=matching, clients=clients, explain=explain, now=now)
    if expected is not None:
        now_placed = {p.client_ref: p.therapist_id for p in proposal.assignments}
        if any(now_placed.get(c.client_ref) != expected.get(c.client_ref) for c in clients):
            raise Conflict(
                "The directory changed since this assignment was proposed; "
                "check the new proposal before committing it."
            )
    by_ref = {c.client_ref: c for c in clients}
    made: dict[str, str] = {}
    rng = np.random.default_rng()
    for placement in proposal.assignments:
        client = by_ref[placement.client_ref]
        _, match_id = recording.record_match(
            session,
            matching=matching,
            intake=client.intake,
            limit=RECORDED_LIMIT,
            client_ref=client.client_ref,
            key_id=key_id,
            exploration=0.0,
            rng=rng,
            now=now,
            rematch_of=client.match_id,
            chosen=placement.therapist_id,
            organisation_id=organisation_id,
        )
        referral = referrals.refer(
            session,
            match_id=match_id,
            therapist_id=placement.therapist_id,
            key_id=key_id,
            organisation_id=organisation_id,
        )
        made[placement.client_ref] = referral.id
    return proposal, made


def waiting(
    session: Session, *, limit: int = MAX_CLIENTS, organisation_id: str | None = None
) -> list[WaitingClient]:
    """The clinic's recorded clients still waiting for a referral, longest waiting first
    (within ``organisation_id``; None: every organisation's)."""
    return [
        WaitingClient(client_ref=ref, intake=intake, match_id=match_id, waiting_since=since)
        for ref, match_id, since, intake in stored.waiting_clients(
            session, limit=limit, organisation_id=organisation_id
        )
    ]
