"""The exact assignment against brute force and the LP optimum; never below greedy."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from matcher.core.assignment import UNASSIGNED, Problem, greedy, optimal
from matcher.core.assignment.exact import duals, flow

SCORES = st.sampled_from([0.5, 0.55, 0.6, 0.62, 0.7, 0.7, 0.75, 0.8, 0.9])


@st.composite
def problems(draw: st.DrawFn, max_clients: int = 5, max_therapists: int = 4) -> Problem:
    """Small waitlists: a few clients, therapists with 0..2 open slots, tied scores common."""
    n = draw(st.integers(0, max_clients))
    m = draw(st.integers(1, max_therapists))
    slots = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    pairs = []
    for _ in range(n):
        rows = sorted(draw(st.sets(st.integers(0, m - 1), max_size=m)))
        scores = [draw(SCORES) for _ in rows]
        pairs.append((np.array(rows, dtype=np.int64), np.array(scores)))
    return Problem.build(slots, pairs)


def brute_force(problem: Problem) -> float:
    """The best total over every assignment (each client: nobody or one eligible therapist)."""
    starts = problem.starts
    options = [
        [UNASSIGNED, *problem.therapist[starts[c] : starts[c + 1]].tolist()]
        for c in range(problem.clients)
    ]
    best = 0.0
    for choice in itertools.product(*options):
        assigned = np.array(choice, dtype=np.int64)
        if problem.feasible(assigned):
            best = max(best, problem.total(assigned))
    return best


def lp_optimum(problem: Problem) -> float:
    """The assignment LP's optimum (HiGHS): at most one therapist each, slots respected."""
    e = len(problem.client)
    if e == 0:
        return 0.0
    rows = np.concatenate([problem.client, problem.clients + problem.therapist])
    a = coo_matrix(
        (np.ones(2 * e), (rows, np.tile(np.arange(e), 2))),
        shape=(problem.clients + len(problem.slots), e),
    )
    b = np.concatenate([np.ones(problem.clients), problem.slots])
    solved = linprog(-problem.score, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    return float(-solved.fun)


@given(problems(), st.integers(1, 3), st.booleans())
def test_optimal_equals_brute_force_and_beats_greedy(
    problem: Problem, first: int, prefer_greedy: bool
) -> None:
    assigned = optimal(problem, first=first, prefer=greedy(problem) if prefer_greedy else None)
    assert problem.feasible(assigned)
    total = problem.total(assigned)
    assert abs(total - brute_force(problem)) < 1e-6
    assert total >= problem.total(greedy(problem)) - 1e-9
    assert problem.feasible(greedy(problem))


@given(problems(max_clients=25, max_therapists=8))
def test_optimal_equals_the_lp_optimum_on_larger_waitlists(problem: Problem) -> None:
    assigned = optimal(problem, first=1)
    assert problem.feasible(assigned)
    assert abs(problem.total(assigned) - lp_optimum(problem)) < 1e-6


def test_greedy_lets_the_first_client_take_the_only_speaker() -> None:
    # Client 0 likes both therapists a little more than therapist 1; client 1 can only see
    # therapist 0 (the only one speaking its language). Greedy leaves client 1 waiting.
    problem = Problem.build(
        [1, 1],
        [
            (np.array([0, 1]), np.array([0.8, 0.75])),
            (np.array([0]), np.array([0.7])),
        ],
    )
    assert greedy(problem).tolist() == [0, UNASSIGNED]
    assert optimal(problem).tolist() == [1, 0]
    assert problem.total(optimal(problem)) == 0.75 + 0.7


def test_duals_certify_a_restricted_optimum() -> None:
    rng = np.random.default_rng(7)
    pairs = [
        (np.sort(rng.choice(30, 12, replace=False)), rng.uniform(0.5, 0.9, 12)) for _ in range(40)
    ]
    problem = Problem.build(rng.integers(0, 3, 30), pairs)
    keep = np.ones(len(problem.client), dtype=np.bool_)
    assigned = flow(problem, keep)
    u, v = duals(problem, keep, assigned)
    w = problem.weight
    assert (u >= 0).all() and (v >= 0).all()
    assert (u[problem.client] + v[problem.therapist] >= w).all()
    on = assigned[problem.client] == problem.therapist
    assert u.sum() + (problem.slots * v).sum() == w[on].sum()


def test_no_therapist_gets_more_clients_than_open_slots() -> None:
    pairs = [(np.array([0, 1]), np.array([0.9, 0.6])) for _ in range(5)]
    assigned = optimal(Problem.build([2, 1], pairs))
    assert np.bincount(assigned[assigned >= 0], minlength=2).tolist() == [2, 1]
    assert (assigned == UNASSIGNED).sum() == 2


def test_ties_keep_what_greedy_gave() -> None:
    # Two therapists equally good for both clients: any split is optimal; greedy's is kept.
    pairs = [(np.array([0, 1]), np.array([0.7, 0.7])) for _ in range(2)]
    problem = Problem.build([1, 1], pairs)
    first_come = greedy(problem)
    assert first_come.tolist() == [0, 1]
    assert optimal(problem, prefer=first_come).tolist() == [0, 1]
    assert optimal(problem, prefer=np.array([1, 0])).tolist() == [1, 0]
