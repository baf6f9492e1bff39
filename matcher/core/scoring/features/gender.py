"""Gender: is of a gender the client asked for; the first choice counts fully.

Value: max_i d_i [gender is g_i]. Gender match is about zero on outcome (Lambert 2016), so its
weight is a tie-breaker; stated preferences are still honoured (Swift et al. 2018).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import Code, Floats, Rows, Table
from matcher.core.scoring.feature import (
    Feature,
    Said,
    Shown,
    first_hit,
    fit,
    gap,
    per_row,
    positive,
)
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.wording import choice

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

GENDER = Code("gender", "gender", Table("genders", tuple(vocab.GENDERS)))
PHRASES = MappingProxyType({"woman": "A woman", "man": "A man", "nonbinary": "Nonbinary"})


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [therapist's gender is the client's i-th choice]."""
    positions = index.table("gender").position
    genders = index.gather(index.column("gender"), rows)
    return first_hit([genders == positions.get(g, -2) for g in q.genders], len(rows))


NOT_ASKED_FOR = (gap("Not the therapist gender you asked for"),)


def explain(shown: Shown, row: int, value: float) -> Sequence[Said]:
    """The therapist's gender and which choice it was."""
    code = shown.index.code("gender", row)
    if value > 0 and code in shown.query.genders:
        return _chosen(code, shown.query.genders)
    return NOT_ASKED_FOR


@functools.lru_cache(maxsize=256)  # a few genders and orders of choices
def _chosen(code: str, wanted: tuple[str, ...]) -> Sequence[Said]:
    """A gender asked for, and which choice it was."""
    return (fit(f"{PHRASES.get(code, code.title())}, {choice(wanted.index(code), len(wanted))}"),)


FEATURE = Feature(
    name="gender",
    meaning="Is of a gender the client asked for; the first choice counts fully.",
    compute=compute,
    explain=per_row(explain),
    given=lambda q: bool(q.genders),
    intake_fields=("therapist_genders",),
    must_have=positive(compute),
    columns=(GENDER,),
)
