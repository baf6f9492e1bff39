"""Style: closeness of therapy style on the client's Cooper-Norcross (C-NIP) dimensions.

Value: 1 - mean_dims |client - therapist| / 6 over the dimensions the client gave; a dimension
the therapist did not rate counts as the neutral midpoint 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher.core.scoring.columns import Floats, Levels, Rows
from matcher.core.scoring.feature import Feature, Said, Shown, fit, gap, per_row
from matcher.core.scoring.query import STYLE_KEYS, ClientQuery

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

STYLE = Levels("style", "style", keys=STYLE_KEYS)  # (n, 4), 0 where not rated
STYLE_RANGE = 6  # |c - t| is at most 3 - (-3)
# Within one point per dimension on average reads as close; beyond three, as different.
CLOSE = 0.75
PARTLY = 0.5


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 - mean(|client - therapist|) / 6 over the client's dimensions."""
    if not q.style:
        return np.zeros(len(rows))
    styles = index.column("style")
    gaps = np.zeros(len(rows), dtype=np.int64)
    for dim, wanted in q.style:
        theirs = index.gather(styles[:, STYLE_KEYS.index(dim)], rows).astype(np.int64)
        gaps += np.abs(wanted - theirs)
    return np.asarray(1.0 - (gaps / len(q.style)) / STYLE_RANGE, np.float64)


# Made once: every match with a style asked for says one of them for each result.
SAID_CLOSE = (fit("Therapy style close to what you asked for"),)
SAID_PARTLY = (fit("Therapy style partly what you asked for"),)
SAID_DIFFERENT = (gap("Therapy style differs from what you asked for"),)


def explain(shown: Shown, row: int, value: float) -> Sequence[Said]:
    """Close, partly close, or different from the style asked for."""
    if value >= CLOSE:
        return SAID_CLOSE
    if value >= PARTLY:
        return SAID_PARTLY
    return SAID_DIFFERENT


FEATURE = Feature(
    name="style",
    meaning="Closeness of therapy style on the client's Cooper-Norcross dimensions.",
    compute=compute,
    explain=per_row(explain),
    given=lambda q: bool(q.style),
    intake_fields=("style",),
    columns=(STYLE,),
    costly=True,
)
