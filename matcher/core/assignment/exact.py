"""The exact optimum: min-cost flow on a sparse candidate set, grown until LP duals certify it.

Solving on every eligible pair (often 1.4 million at 2,000 clients) costs more than the whole time
budget, and the best pairs of each client are nearly always enough. So the flow is solved on each
client's best few pairs; LP duals are then read off that solution (a longest-path pass over the
solution's alternating paths, in integers) and every left-out pair is priced with them. A pair
whose score beats its client's and therapist's duals could improve the total and is added; when
none does, the duals are a feasible dual solution whose objective equals the flow's total, which
proves the assignment optimal over every eligible pair (LP duality; the assignment polytope is
integral). The solver is OR-Tools' SimpleMinCostFlow, chosen by bench/waitlist_bench.py.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.core.assignment.problem import UNASSIGNED, Ints, Problem

FIRST_CANDIDATES = 16  # each client's best pairs in the first restricted solve (bench: fastest)
Mask = npt.NDArray[np.bool_]


class NotCertified(RuntimeError):
    """The duals did not certify a restricted solution (never expected; the caller re-solves)."""


def flow(problem: Problem, keep: Mask, weight: Ints | None = None) -> Ints:
    """The best assignment using only the pairs in ``keep``: one min-cost flow, integer costs."""
    w = problem.weight if weight is None else weight
    n, m = problem.clients, len(problem.slots)
    client, therapist = problem.client[keep], problem.therapist[keep]
    source, sink = n + m, n + m + 1
    from ortools.graph.python import min_cost_flow  # 18 MB: loaded by the first waitlist

    solver = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n, source), client, n + np.arange(m), [source]])
    heads = np.concatenate([np.arange(n), n + therapist, np.full(m, sink), [sink]])
    capacities = np.concatenate(
        [np.ones(n, np.int64), np.ones(len(client), np.int64), problem.slots, [n]]
    )
    costs = np.concatenate([np.zeros(n, np.int64), -w[keep], np.zeros(m, np.int64), [0]])
    first = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)[0]
    supplies = np.zeros(n + m + 2, np.int64)
    supplies[source], supplies[sink] = n, -n
    solver.set_nodes_supplies(np.arange(n + m + 2), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = solver.flows(np.arange(first + n, first + n + len(client))) > 0
    assigned = np.full(n, UNASSIGNED, dtype=np.int64)
    assigned[client[used]] = therapist[used]
    return assigned


def duals(
    problem: Problem, keep: Mask, assigned: Ints, weight: Ints | None = None
) -> tuple[Ints, Ints]:
    """The least therapist duals ``v`` (and client duals ``u``) for an optimum on ``keep``.

    Constraints u_c + v_t >= w_ct on kept pairs with equality on assigned ones, u_c = 0 for an
    unassigned client: v is the least fixpoint of the lower bounds they imply (a longest path).
    """
    w = problem.weight if weight is None else weight
    client, therapist, kept = problem.client[keep], problem.therapist[keep], w[keep]
    m = len(problem.slots)
    mine = assigned[client]
    v = np.zeros(m, np.int64)
    free = mine == UNASSIGNED
    np.maximum.at(v, therapist[free], kept[free])
    # For an assigned client: v_t >= v_t0 - w_ct0 + w_ct over its other kept pairs.
    held = ~free & (mine != therapist)
    own = np.zeros(problem.clients, np.int64)
    on = mine == therapist
    own[client[on]] = kept[on]
    src, dst = mine[held], therapist[held]
    gain = kept[held] - own[client[held]]
    for _ in range(problem.clients + m + 1):
        bound = v.copy()
        np.maximum.at(bound, dst, v[src] + gain)
        if np.array_equal(bound, v):
            break
        v = bound
    else:
        raise NotCertified("the duals did not settle")
    u = np.zeros(problem.clients, np.int64)
    placed = assigned != UNASSIGNED
    u[placed] = own[placed] - v[assigned[placed]]
    return u, v


def certified(
    problem: Problem, assigned: Ints, u: Ints, v: Ints, weight: Ints | None = None
) -> bool:
    """Weak duality met with equality: the duals are feasible on every pair, objectives equal."""
    w = problem.weight if weight is None else weight
    if np.any(u < 0) or np.any(v < 0):
        return False
    if np.any(u[problem.client] + v[problem.therapist] < w):
        return False
    on = assigned[problem.client] == problem.therapist
    return int(u.sum()) + int((problem.slots * v).sum()) == int(w[on].sum())


def tie_broken(problem: Problem, prefer: Ints) -> Ints:
    """Weights that keep every strict preference and break ties toward ``prefer``'s pairs.

    Each weight is scaled by clients + 1 and a preferred pair gains 1: all the gains together
    stay below one unit of the original weight, so an optimum of these weights is an optimum of
    the scores, and among equal totals the one sharing most pairs with ``prefer``.
    """
    chosen = (prefer[problem.client] == problem.therapist).astype(np.int64)
    tied: Ints = problem.weight * (problem.clients + 1) + chosen
    return tied


def optimal(problem: Problem, *, first: int = FIRST_CANDIDATES, prefer: Ints | None = None) -> Ints:
    """The assignment with the largest sum of scores over every eligible pair, certified.

    ``prefer`` (an assignment, such as greedy's) decides between optimal assignments with equal
    totals, so that clients are moved from what first come, first served gives only for a gain.
    """
    starts = problem.starts
    rank = np.arange(len(problem.client)) - starts[problem.client]
    keep = rank < first
    w = problem.weight if prefer is None else tie_broken(problem, prefer)
    while True:
        assigned = flow(problem, keep, w)
        try:
            u, v = duals(problem, keep, assigned, w)
        except NotCertified:
            return flow(problem, np.ones_like(keep), w)
        improving = ~keep & (w > u[problem.client] + v[problem.therapist])
        if not improving.any():
            if not certified(problem, assigned, u, v, w):
                return flow(problem, np.ones_like(keep), w)
            return assigned
        keep |= improving
