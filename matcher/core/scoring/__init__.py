"""The pure scoring core: features, weights, the therapist index, filters, ranking, reasons."""

from matcher.core.scoring.engine import (
    Evaluation,
    MatchOutcome,
    Result,
    eligible_ids,
    evaluate,
    feature_values,
    instant,
    match,
    scores,
    shortlist,
    top,
)
from matcher.core.scoring.feature import Feature, rank_discount
from matcher.core.scoring.features import (
    FEATURE_MEANINGS,
    FEATURES,
    MUST_HAVE_SOURCES,
    REGISTRY,
)
from matcher.core.scoring.filters import (
    FILTER_ORDER,
    MUST_HAVE_ORDER,
    RELAXABLE_FILTERS,
    Screening,
    screen,
)
from matcher.core.scoring.index import PRIOR_ALLIANCE, TherapistIndex
from matcher.core.scoring.query import DEFAULT_RADIUS_KM, ClientQuery
from matcher.core.scoring.reasons import Reason, explain
from matcher.core.scoring.weights import WeightSet, load_default, models_dir

__all__ = [
    "DEFAULT_RADIUS_KM",
    "FEATURES",
    "FEATURE_MEANINGS",
    "FILTER_ORDER",
    "MUST_HAVE_ORDER",
    "MUST_HAVE_SOURCES",
    "PRIOR_ALLIANCE",
    "REGISTRY",
    "RELAXABLE_FILTERS",
    "ClientQuery",
    "Evaluation",
    "Feature",
    "MatchOutcome",
    "Reason",
    "Result",
    "Screening",
    "TherapistIndex",
    "WeightSet",
    "eligible_ids",
    "evaluate",
    "explain",
    "feature_values",
    "instant",
    "load_default",
    "match",
    "models_dir",
    "rank_discount",
    "scores",
    "screen",
    "shortlist",
    "top",
]
