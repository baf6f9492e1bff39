"""Waitlist assignment benchmark: 2,000 waiting clients x 10,000 therapists, against greedy.

Run from the repository root: ``python bench/waitlist_bench.py`` (``--help`` for sizes).
The waitlist is realistic in the ways that make first come, first served costly: clients with
limited English need their language (a must-have), a third can only come on weekday evenings
(some of them must), and the directory has few openings (most accepting therapists have no
slot left, the rest one or two). Intakes are drawn by the simulator's client model over the
synthetic directory's regions. It times the service's own path (``services.waitlist.assign``:
screen and score every client with the engine, solve exactly, run greedy) and compares the exact
solvers the brief names on the same problem. Floors: <= 2 s; total >= greedy; placed >= greedy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.core.assignment import UNASSIGNED, Problem, greedy, optimal
from matcher.core.assignment.exact import flow
from matcher.core.scoring import TherapistIndex, evaluate, load_default
from matcher.lab.simulation.world import SIMULATED_NOW, draw_intake
from matcher.lab.synthetic import REGIONS, generate_profiles
from matcher.schemas.intake import IntakeSchema, normalise
from matcher.services.waitlist import WaitingClient, assign

EVENINGS = [{"day": d, "start": "17:00", "end": "21:00"} for d in ("mon", "tue", "wed", "thu")]
Solver = Callable[[Problem], np.ndarray]


def few_openings(profiles: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Most accepting therapists full: 60% no slot left, 30% one, 10% two."""
    for profile in profiles:
        if profile["accepting_new_clients"]:
            profile["capacity"] = int(rng.choice([0, 1, 2], p=[0.6, 0.3, 0.1]))


def waitlist(n: int, rng: np.random.Generator) -> list[WaitingClient]:
    """Waiting clients: scarce languages as must-haves, evening-only times, in arrival order."""
    loader = IntakeSchema()
    regions = tuple(REGIONS.values())
    clients = []
    for i in range(n):
        raw, limited = draw_intake(rng, regions)
        must = list(raw.get("must_have") or [])
        if limited and raw.get("languages"):
            must.append("language")
        if rng.random() < 1 / 3:
            raw["availability"] = EVENINGS
            raw.setdefault("timezone", "America/Los_Angeles")
            if rng.random() < 0.4:
                must.append("availability")
        raw["must_have"] = list(dict.fromkeys(must))
        clients.append(WaitingClient(client_ref=f"w-{i}", intake=loader.load(raw)))
    return clients


def problem_of(index: TherapistIndex, clients: list[WaitingClient]) -> Problem:
    """The bipartite problem the service solves, built the same way."""
    weights = load_default()
    pairs = []
    for c in clients:
        e = evaluate(index, normalise(dict(c.intake)), weights, limit=0, now=SIMULATED_NOW)
        pairs.append((e.screening.rows, e.score))
    slots = np.where(index.column("accepting"), index.column("capacity"), 0)
    return Problem.build(np.maximum(slots, 0), pairs)


def _expanded(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair repeated once per open slot of its therapist: (client, slot column, score)."""
    first = np.concatenate([[0], np.cumsum(problem.slots)])
    copies = problem.slots[problem.therapist]
    client = np.repeat(problem.client, copies)
    score = np.repeat(problem.score, copies)
    offset = np.arange(copies.sum()) - np.repeat(np.cumsum(copies) - copies, copies)
    column = np.repeat(first[problem.therapist], copies) + offset
    owner = np.repeat(np.arange(len(problem.slots)), problem.slots)
    return client, column, score, owner


def scipy_sparse(problem: Problem) -> np.ndarray:
    """scipy min_weight_full_bipartite_matching, slots expanded, one "wait" column per client."""
    client, column, score, owner = _expanded(problem)
    n, width = problem.clients, len(owner)
    rows = np.concatenate([client, np.arange(n)])
    cols = np.concatenate([column, width + np.arange(n)])
    cost = np.concatenate([2.0 - score, np.full(n, 2.0)])  # waiting scores 0; costs stay > 0
    graph = csr_matrix((cost, (rows, cols)), shape=(n, width + n))
    _, matched = min_weight_full_bipartite_matching(graph)
    assigned = np.full(n, UNASSIGNED, dtype=np.int64)
    real = matched < width
    assigned[real] = owner[matched[real]]
    return assigned


def scipy_dense(problem: Problem) -> np.ndarray:
    """scipy linear_sum_assignment on a dense clients x slots matrix (non-pairs score 0)."""
    client, column, score, owner = _expanded(problem)
    gain = np.zeros((problem.clients, len(owner)))
    gain[client, column] = score
    rows, cols = linear_sum_assignment(gain, maximize=True)
    assigned = np.full(problem.clients, UNASSIGNED, dtype=np.int64)
    real = gain[rows, cols] > 0
    assigned[rows[real]] = owner[cols[real]]
    return assigned


SOLVERS: dict[str, Solver] = {
    "ortools flow, sparse + dual pricing (shipped)": optimal,
    "ortools flow, every pair": lambda p: flow(p, np.ones(len(p.client), dtype=np.bool_)),
    "scipy min_weight_full_bipartite_matching": scipy_sparse,
    "scipy linear_sum_assignment (dense)": scipy_dense,
}


def main() -> None:
    """Build the directory and waitlist, time the service's path, compare solvers, floors."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--therapists", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-solvers", action="store_true", help="skip the solver comparison")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    profiles = generate_profiles(args.therapists, seed=args.seed)
    few_openings(profiles, rng)
    index = TherapistIndex.build(profiles)
    clients = waitlist(args.clients, rng)
    weights = load_default()
    slots = int(np.where(index.column("accepting"), index.column("capacity"), 0).sum())
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        proposal = assign(index, weights, clients, now=SIMULATED_NOW)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    assign(index, weights, clients, explain=True, now=SIMULATED_NOW)
    explained = time.perf_counter() - started
    eligible = np.array(proposal.eligible)
    print(
        f"waitlist: {args.clients} clients x {args.therapists} therapists, {slots} open slots; "
        f"eligible per client median {int(np.median(eligible))}, none for "
        f"{int((eligible == 0).sum())}"
    )
    print(
        f"  assignment (score + exact solve + greedy): median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s over {args.repeat}; "
        f"with every placement's reasons in words (explain): {explained:.3f} s"
    )
    gain = proposal.total_score - proposal.greedy_total_score
    print(
        f"  placed {proposal.placed} vs greedy {proposal.greedy_placed} "
        f"(+{proposal.placed - proposal.greedy_placed}); total predicted alliance "
        f"{proposal.total_score:.3f} vs greedy {proposal.greedy_total_score:.3f} (+{gain:.3f}); "
        f"mean per placed {proposal.total_score / max(proposal.placed, 1):.4f} vs "
        f"{proposal.greedy_total_score / max(proposal.greedy_placed, 1):.4f}"
    )
    print(
        f"  floors: time <= 2 s {'met' if statistics.median(times) <= 2 else 'NOT met'}; "
        f"total >= greedy {'met' if gain >= -1e-9 else 'NOT met'}; placed >= greedy "
        f"{'met' if proposal.placed >= proposal.greedy_placed else 'NOT met'}"
    )
    if args.no_solvers:
        return
    problem = problem_of(index, clients)
    baseline = problem.total(greedy(problem))
    print(f"solvers on the same problem ({len(problem.client)} eligible pairs):")
    for name, solve in SOLVERS.items():
        runs = []
        for _ in range(max(1, args.repeat // 2)):
            started = time.perf_counter()
            assigned = solve(problem)
            runs.append(time.perf_counter() - started)
        assert problem.feasible(assigned), name
        print(
            f"  {name}: median {statistics.median(runs):.3f} s, total {problem.total(assigned):.6f}"
            f" (greedy {baseline:.6f}), placed {(assigned != UNASSIGNED).sum()}"
        )


if __name__ == "__main__":
    main()
