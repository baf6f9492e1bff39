"""Modality: offers a therapy the client asked for; the first choice counts fully.

Value: max_i d_i [offers m_i] (Swift et al. 2018: accommodating treatment preferences matters).
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
from matcher.core.scoring.wording import choice, listing, lower_first

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

MODALITIES = CodeSet("modalities", "modalities", Table("modalities", tuple(vocab.MODALITIES)))


@functools.cache  # labels are fixed; reasons ask for them for every result
def label(code: str) -> str:
    """'CBT' from 'Cognitive behavioural therapy (CBT)', else the label in lower case."""
    text = vocab.MODALITIES.get(code, code)
    if text.endswith(")") and "(" in text:
        return text[text.rindex("(") + 1 : -1]
    return lower_first(text)


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [offers the client's i-th modality]."""
    return first_hit(index.has_each("modalities", q.modalities, rows), len(rows))


@functools.lru_cache(maxsize=4096)  # the words depend on which modalities are offered only
def sentences(wanted: tuple[str, ...], offered: tuple[bool, ...]) -> tuple[Said, ...]:
    """The best-ranked modality offered, or the ones asked for, given which are offered."""
    if True in offered:
        first = offered.index(True)
        return (fit(f"Offers {label(wanted[first])}, {choice(first, len(wanted))}"),)
    return (gap(f"Does not offer {listing([label(m) for m in wanted], 'or')}"),)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """The best-ranked modality each therapist offers, or the ones the client asked for."""
    wanted = shown.query.modalities
    return [sentences(wanted, offered) for offered in shown.listed_rows("modalities", wanted)]


FEATURE = Feature(
    name="modality",
    meaning="Offers a therapy the client asked for; the first choice counts fully.",
    compute=compute,
    explain=explain,
    given=lambda q: bool(q.modalities),
    intake_fields=("modalities",),
    must_have=positive(compute),
    columns=(MODALITIES,),
)
