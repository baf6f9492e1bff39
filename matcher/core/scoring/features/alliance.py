"""Alliance: the therapist's own early-alliance record, on [0, 1], from clients' ratings.

The record is set on the index from ratings (not read from the profile); every therapist starts
at the prior 0.5, so new therapists are not buried (fair exposure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from matcher.core.scoring.columns import Floats, Rows
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap, note, per_row
from matcher.core.scoring.query import ClientQuery

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

PRIOR = 0.5  # where every therapist starts (index.PRIOR_ALLIANCE)
# Well above or below the 0.5 prior: a record built from several clients' ratings.
STRONG = 0.7
WEAK = 0.3


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """The therapist's early-alliance record, as given to the index from ratings."""
    return index.gather(index.alliance, rows)


# What a record says, made once: every match says one of them for each result.
HIGH = (fit("Past clients rated their first sessions with this therapist highly"),)
LOW = (gap("Past clients rated their first sessions with this therapist below average"),)
UNRATED = (note("No early-alliance ratings yet, so counted as average"),)
AVERAGE = (note("Early-alliance record about average"),)


def explain(shown: Shown, row: int, value: float) -> Sequence[Said]:
    """High, low, about average, or not rated yet (counted at the prior)."""
    if value >= STRONG:
        return HIGH
    if value <= WEAK:
        return LOW
    if value == PRIOR:
        return UNRATED
    return AVERAGE


FEATURE = Feature(
    name="alliance",
    meaning="The therapist's early-alliance record, 0.5 (the prior) without ratings.",
    compute=compute,
    explain=per_row(explain),
)
