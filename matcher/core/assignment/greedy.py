"""First come, first served: each client in list order takes its best remaining therapist."""

from __future__ import annotations

import numpy as np

from matcher.core.assignment.problem import UNASSIGNED, Ints, Problem


def greedy(problem: Problem) -> Ints:
    """The assignment a clinic matching one client at a time would reach (the baseline)."""
    remaining = problem.slots.copy()
    assigned = np.full(problem.clients, UNASSIGNED, dtype=np.int64)
    starts = problem.starts
    for c in range(problem.clients):
        mine = problem.therapist[starts[c] : starts[c + 1]]
        free = np.flatnonzero(remaining[mine] > 0)
        if len(free):
            t = int(mine[free[0]])
            assigned[c] = t
            remaining[t] -= 1
    return assigned
