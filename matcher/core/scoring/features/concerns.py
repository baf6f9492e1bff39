"""Concerns: the share of the client's concerns the therapist lists, weighted by rank.

Value: sum_i d_i [lists c_i] / sum_i d_i: every concern counts, earlier ones more.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import CodeSet, Floats, Rows, Table
from matcher.core.scoring.feature import (
    Feature,
    Said,
    Shown,
    fit,
    gap,
    positive,
    rank_quarters,
)
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.wording import listing, lower_first

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

CONCERNS = CodeSet("concerns", "concerns", Table("concerns", tuple(vocab.CONCERNS)))


@functools.cache  # labels are fixed; reasons ask for them for every result
def label(code: str) -> str:
    """A concern's label as it reads mid-sentence."""
    return lower_first(vocab.CONCERNS.get(code, code.replace("_", " ")))


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """sum_i d_i * [lists concern i] / sum_i d_i."""
    # Summed in quarters (small integers: exact); quarters over quarters is the same quotient
    # as the discounts' sum over theirs, to the last bit (both are scaled by a power of two).
    quarters = np.zeros(len(rows), dtype=np.int16)
    total = 0
    for i, listed in enumerate(index.has_each("concerns", q.concerns, rows)):
        quarters += np.multiply(listed, np.int16(rank_quarters(i)), dtype=np.int16)
        total += rank_quarters(i)
    return quarters / total if q.concerns else np.zeros(len(rows))


@functools.lru_cache(maxsize=4096)  # the words depend on which concerns are listed, nothing else
def sentences(concerns: tuple[str, ...], listed: tuple[bool, ...]) -> tuple[Said, ...]:
    """What fits and what is missing, given which of the client's concerns are listed."""
    found = [label(c) for c, ok in zip(concerns, listed, strict=True) if ok]
    missing = [label(c) for c, ok in zip(concerns, listed, strict=True) if not ok]
    said = [fit(f"Works with {listing(found)}")] if found else []
    if missing:
        said.append(gap(f"Does not list {listing(missing, 'or')} among their focus areas"))
    return tuple(said)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """The concerns each therapist works with, and the ones they do not list."""
    concerns = shown.query.concerns
    return [sentences(concerns, listed) for listed in shown.listed_rows("concerns", concerns)]


FEATURE = Feature(
    name="concerns",
    meaning="Share of the client's concerns the therapist lists, weighted by rank.",
    compute=compute,
    explain=explain,
    given=lambda q: bool(q.concerns),
    intake_fields=("concerns",),
    must_have=positive(compute),
    columns=(CONCERNS,),
)
