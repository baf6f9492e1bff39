"""How the console says things: weights in WAI-SR points, times in UTC, audit details in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from matcher.core.scoring import FEATURE_MEANINGS, FEATURES

WAI_SPAN = 48  # WAI-SR totals run 12..60: a score step of 1 is 48 points
# What a feature's full value (1) means for one client and therapist, in a clinician's words.
FULL_VALUE: Mapping[str, str] = {
    "modality": "offering the client's first-choice therapy",
    "concerns": "listing every concern the client named",
    "language": "a full language match",
    "identity": "full competence with the client's communities",
    "faith": "sharing the faith the client asked for",
    "availability": "two or more hours a week in common",
    "format": "offering the client's first-choice format",
    "gender": "being of the client's first-choice gender",
    "cost": "being affordable to the client",
    "style": "a therapy style exactly as the client prefers",
    "alliance": "the best possible early-alliance record",
}


def points(weight: float) -> float:
    """A score difference in WAI-SR total points."""
    return WAI_SPAN * weight


def in_words(name: str, weight: float) -> str:
    """A weight in words, like "A full language match adds 0.08, about 3.8 WAI-SR points"."""
    phrase = FULL_VALUE.get(name, f"a full {name} match")
    sentence = f"{phrase} adds {weight:.2f}, about {points(weight):.1f} WAI-SR points."
    return sentence[0].upper() + sentence[1:]


def weight_rows(weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """One row per feature: its name, meaning, weight and the weight in words."""
    return [
        {
            "name": name,
            "meaning": FEATURE_MEANINGS[name],
            "weight": float(weights.get(name, 0.0)),
            "words": in_words(name, float(weights.get(name, 0.0))),
        }
        for name in FEATURES
    ]


def when(moment: datetime | None) -> str:
    """A stored time as ``2026-03-02 15:00 UTC``."""
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def changes(details: Mapping[str, Any]) -> list[str]:
    """An audit event's details as short sentences (weights moved, counts, roles)."""
    said: list[str] = []
    moved = details.get("changed_weights") or {}
    for name, change in moved.items():
        before, after = change.get("from"), change.get("to")
        said.append(f"{name}: {_num(before)} to {_num(after)}")
    intercept = details.get("intercept")
    if isinstance(intercept, Mapping) and intercept.get("from") != intercept.get("to"):
        said.append(f"intercept: {_num(intercept.get('from'))} to {_num(intercept.get('to'))}")
    for key, value in details.items():
        if key in ("changed_weights", "intercept", "from", "weights", "to_version"):
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            said.append(f"{key.replace('_', ' ')}: {value}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            said.append(f"{key.replace('_', ' ')}: {', '.join(value) or 'none'}")
    if "weights" in details and isinstance(details["weights"], Mapping):
        weights = details["weights"]
        said.append("weights: " + ", ".join(f"{k} {_num(v)}" for k, v in weights.items()))
    return said


def _num(value: Any) -> str:
    return "none" if value is None else f"{float(value):.3f}"


KIND_LABELS: Mapping[str, str] = {
    "model.create": "New model version",
    "model.activate": "Model version published",
    "model.rollback": "Model rolled back",
    "client.erase": "Client erased",
    "user.create": "Person added",
    "user.role": "Role changed",
    "user.disable": "Person disabled",
    "key.create": "API key created",
    "key.revoke": "API key revoked",
    "directory.import": "Profiles imported",
    "therapist.deactivate": "Therapist deactivated",
}


def audit_kind(action: str) -> tuple[str, str]:
    """An action code as a select option: (code, "Label (code)")."""
    label = KIND_LABELS.get(action)
    return action, f"{label} ({action})" if label else action
