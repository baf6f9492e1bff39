"""Learning from early alliance: instruments, therapist records, the weight learner, evaluation."""

from matcher.core.learning.evaluation import (
    MINIMUM_RATINGS,
    MINIMUM_THERAPISTS,
    NotEnoughRatings,
    check_enough,
    evaluate,
)
from matcher.core.learning.instruments import (
    INSTRUMENTS,
    Instrument,
    ScoredRating,
    load_wording,
    score_items,
)
from matcher.core.learning.learner import AllianceRegressor
from matcher.core.learning.record import ALLIANCE_SPAN, AllianceRecords, estimate_records

__all__ = [
    "ALLIANCE_SPAN",
    "INSTRUMENTS",
    "MINIMUM_RATINGS",
    "MINIMUM_THERAPISTS",
    "AllianceRecords",
    "AllianceRegressor",
    "Instrument",
    "NotEnoughRatings",
    "ScoredRating",
    "check_enough",
    "estimate_records",
    "evaluate",
    "load_wording",
    "score_items",
]
