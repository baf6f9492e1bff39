"""A match feature as one record: what it means, its value, its reasons and its hard filter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.columns import Bools, Column, Floats, Rows
from matcher.core.scoring.query import ClientQuery

if TYPE_CHECKING:  # the index builds the columns features declare, so it imports them
    from matcher.core.scoring.index import TherapistArrays, TherapistIndex

# The feature's value, in [0, 1], for each of ``rows``.
Compute = Callable[["TherapistArrays", ClientQuery, Rows, datetime], Floats]
# Whether each of ``rows`` passes the feature's hard filter.
Test = Callable[["TherapistArrays", ClientQuery, Rows, datetime], Bools]


class Kind(IntEnum):
    """What a sentence says about a result; reasons list fits, then notes, then gaps."""

    FIT = 0
    NOTE = 1  # a neutral fact that still counted (an average alliance record)
    GAP = 2


class Said(NamedTuple):
    """One plain sentence about one result (a tuple: a match makes about a hundred)."""

    kind: Kind
    text: str


def fit(text: str) -> Said:
    """Something that fits what the client asked for."""
    return Said(Kind.FIT, text)


def note(text: str) -> Said:
    """A neutral fact that counted in the score."""
    return Said(Kind.NOTE, text)


def gap(text: str) -> Said:
    """Something the client asked for and this therapist does not offer."""
    return Said(Kind.GAP, text)


@dataclass(frozen=True)
class Shown:
    """The results being explained: the index, the client, their rows and the match instant."""

    index: TherapistIndex
    query: ClientQuery
    rows: Rows
    now: datetime
    # column -> {row: that row's code set as one Python int}, read once for every sentence.
    _masks: dict[str, dict[int, int]] = field(default_factory=dict, compare=False, repr=False)

    def masks(self, column: str) -> dict[int, int]:
        """Every shown row's code set in a code-set column, as Python ints (read once)."""
        found = self._masks.get(column)
        if found is None:
            words = np.ascontiguousarray(self.index.column(column)[self.rows], dtype="<u8")
            raw, size = words.tobytes(), 8 * words.shape[1]
            found = self._masks[column] = {
                row: int.from_bytes(raw[i * size : (i + 1) * size], "little")
                for i, row in enumerate(self.rows.tolist())
            }
        return found

    def lists(self, column: str, row: int, code: str) -> bool:
        """Whether a shown therapist lists ``code`` in a code-set column (``index.lists``)."""
        position = self.index.table(column).position.get(code)
        if position is None:
            return False
        return bool(self.masks(column)[row] >> position & 1)

    def listed_rows(self, column: str, codes: tuple[str, ...]) -> list[tuple[bool, ...]]:
        """``lists`` for each of ``codes``, for every shown row at once, in row order (each
        bitset word read once for the shown rows, then tested as Python ints)."""
        position = self.index.table(column).position
        bits = self.index.column(column)
        words: dict[int, list[int]] = {}
        tests: list[tuple[list[int], int] | None] = []  # None: a code nobody lists
        for code in codes:
            at = position.get(code)
            if at is None:
                tests.append(None)
                continue
            word = words.get(at >> 6)
            if word is None:
                word = words[at >> 6] = bits[:, at >> 6].take(self.rows).tolist()
            tests.append((word, 1 << (at & 63)))
        return [
            tuple(test is not None and test[0][i] & test[1] != 0 for test in tests)
            for i in range(len(self.rows))
        ]


# Sentences for each shown row, given the feature's values for them.
Explain = Callable[[Shown, Floats], list[Sequence[Said]]]
ExplainOne = Callable[[Shown, int, float], Sequence[Said]]


def per_row(one: ExplainOne) -> Explain:
    """An explainer of every shown row, from one that explains a single row."""

    def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
        pairs = zip(shown.rows.tolist(), values.tolist(), strict=True)
        return [one(shown, row, value) for row, value in pairs]

    return explain


@dataclass(frozen=True)
class Positive:
    """A hard filter that any non-zero value of the feature satisfies.

    The filter computes the feature's values, so screening keeps them for scoring
    (``compute``) rather than computing them twice.
    """

    compute: Compute

    def __call__(self, index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
        """Whether each of ``rows`` has a non-zero value."""
        return np.asarray(self.compute(index, q, rows, now) > 0, np.bool_)


def positive(compute: Compute) -> Test:
    """A hard filter that any non-zero value of the feature satisfies."""
    return Positive(compute)


def rank_discount(i: int) -> float:
    """Weight of the client's i-th choice (from 0): 1, 0.75, 0.5, then 0.25 for the rest."""
    return 0.25 * rank_quarters(i)


def rank_quarters(i: int) -> int:
    """``rank_discount`` in quarters: 4, 3, 2, then 1 (small integers add up exactly)."""
    return max(1, 4 - i)


def best_ranked(hits: Iterable[npt.NDArray[Any]], size: int) -> Floats:
    """max_i d_i * hit_i over the client's ordered choices (every hit is >= 0)."""
    out: Floats | None = None
    for i, hit in enumerate(hits):
        scaled = np.multiply(rank_discount(i), hit, dtype=np.float64)
        out = scaled if out is None else np.maximum(out, scaled, out=out)
    return np.zeros(size) if out is None else out


def first_hit(hits: Sequence[Bools], size: int) -> Floats:
    """``best_ranked`` for yes/no hits: d_i of the first choice hit (discounts only fall).

    Taken as the largest of the hits' discounts in quarters, one byte a row, then scaled once:
    the same values as choosing row by row (``np.where``), several times faster, with no
    branch on each row's hits.
    """
    if not hits:
        return np.zeros(size)
    out = np.multiply(hits[0], np.uint8(rank_quarters(0)), dtype=np.uint8)
    for i, hit in enumerate(hits[1:], 1):
        np.maximum(out, np.multiply(hit, np.uint8(rank_quarters(i)), dtype=np.uint8), out=out)
    return np.multiply(out, 0.25)


@dataclass(frozen=True)
class Feature:
    """One match feature, whole: everything the engine, filters, reasons and intake need."""

    name: str
    meaning: str  # one sentence, shown in the API documentation
    compute: Compute
    explain: Explain
    # Whether the client stated this preference; None: not a preference, it always counts.
    given: Callable[[ClientQuery], bool] | None = None
    intake_fields: tuple[str, ...] = ()  # the intake fields that state the preference
    must_have: Test | None = None  # the hard filter when the client names it in must_have
    always_filter: bool = False  # the hard filter applies whenever the preference is given
    caveats: Callable[[ClientQuery], list[str]] | None = None  # how an intake was read, said
    columns: tuple[Column, ...] = ()  # the profile data the index keeps for this feature
    # Costly per row (distances, week bitsets, several columns): a top-k match computes it only
    # for the therapists the cheap features leave able to reach the top (engine.match).
    costly: bool = False

    def gave(self, q: ClientQuery) -> bool:
        """Whether the client stated this preference (always, for a non-preference)."""
        return self.given is None or self.given(q)
