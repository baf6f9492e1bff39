"""Learning from early alliance: instruments, therapist records, the weight learner, evaluation.

The names below are imported from their modules when first asked for: the learner and its
evaluation bring scikit-learn, which matching does not need, so a server that only matches
does not hold it in memory.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "MINIMUM_RATINGS": "minimums",
    "MINIMUM_THERAPISTS": "minimums",
    "NotEnoughRatings": "minimums",
    "check_enough": "minimums",
    "evaluate": "evaluation",
    "INSTRUMENTS": "instruments",
    "Instrument": "instruments",
    "ScoredRating": "instruments",
    "load_wording": "instruments",
    "score_items": "instruments",
    "AllianceRegressor": "learner",
    "ALLIANCE_SPAN": "record",
    "AllianceRecords": "record",
    "estimate_records": "record",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """One of the package's names, from its module."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
