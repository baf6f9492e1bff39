"""Faith: has the faith the client asked for (Captari et al. 2018: accommodation g = .13-.33)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import Code, Floats, Rows, Table
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap, per_row, positive
from matcher.core.scoring.query import ClientQuery

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

FAITH = Code("faith", "faith", Table("faiths", tuple(vocab.FAITHS)))


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 when the therapist has the faith the client asked for."""
    position = index.table("faith").position.get(q.faith) if q.faith else None
    if position is None:
        return np.zeros(len(rows))
    return np.asarray(index.gather(index.column("faith"), rows) == position, np.float64)


def explain(shown: Shown, row: int, value: float) -> Sequence[Said]:
    """The faith shared, or not."""
    faith = shown.query.faith
    if value > 0 and faith is not None:
        return (fit(f"Shares your faith: {vocab.FAITHS.get(faith, faith)}"),)
    return (gap("Does not share your faith"),)


FEATURE = Feature(
    name="faith",
    meaning="Has the faith the client asked for.",
    compute=compute,
    explain=per_row(explain),
    given=lambda q: q.faith is not None,
    intake_fields=("faith",),
    must_have=positive(compute),
    columns=(FAITH,),
)
