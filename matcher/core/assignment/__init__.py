"""Capacity-aware assignment of a waitlist: the exact optimum and the greedy baseline."""

from matcher.core.assignment.exact import optimal
from matcher.core.assignment.greedy import greedy
from matcher.core.assignment.problem import UNASSIGNED, Problem

__all__ = ["UNASSIGNED", "Problem", "greedy", "optimal"]
