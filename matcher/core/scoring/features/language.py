"""Language: speaks a language the client asked for; the first choice counts fully.

Value: max_i d_i [speaks l_i]: one shared language is enough to work in.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import CodeSet, Floats, Rows, Table
from matcher.core.scoring.feature import (
    Feature,
    Said,
    Shown,
    first_hit,
    fit,
    gap,
    positive,
)
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.wording import listing

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

LANGUAGES = CodeSet("languages", "languages", Table("languages", tuple(vocab.languages())))


@functools.cache  # labels are fixed; reasons ask for them for every result
def label(code: str) -> str:
    """A language's English name."""
    return vocab.languages().get(code, code)


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [speaks language i]."""
    return first_hit(index.has_each("languages", q.languages, rows), len(rows))


@functools.lru_cache(maxsize=4096)  # the words depend on which languages are spoken only
def sentences(wanted: tuple[str, ...], speaks: tuple[bool, ...]) -> tuple[Said, ...]:
    """The best-ranked language spoken, given which of the client's languages are."""
    spoken = [code for code, yes in zip(wanted, speaks, strict=True) if yes]
    if not spoken:
        return (gap(f"Does not speak {listing([label(c) for c in wanted], 'or')}"),)
    said = [fit(f"Speaks {label(spoken[0])}")]
    if wanted[0] not in spoken:
        said.append(gap(f"Does not speak {label(wanted[0])}"))
    return tuple(said)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """The best-ranked language each therapist speaks; the first choice named when it is not."""
    wanted = shown.query.languages
    return [sentences(wanted, speaks) for speaks in shown.listed_rows("languages", wanted)]


FEATURE = Feature(
    name="language",
    meaning="Speaks a language the client asked for; the first choice counts fully.",
    compute=compute,
    explain=explain,
    given=lambda q: bool(q.languages),
    intake_fields=("languages",),
    must_have=positive(compute),
    columns=(LANGUAGES,),
)
