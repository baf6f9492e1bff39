"""The model's parameters: an intercept and one non-negative weight per feature."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from matcher.bundled import data_dir
from matcher.core.scoring.features import FEATURES
from matcher.core.scoring.index import Floats

DEFAULT_MODEL = "default.json"
# Sums of eleven floats are checked with this much slack, so 0.52 + 0.48 is accepted as 1.
_TOLERANCE = 1e-9


def models_dir() -> Path:
    """Where model files live: bundled in the wheel, else the repository's ``models/``."""
    candidate = data_dir("models")
    if (candidate / DEFAULT_MODEL).is_file():
        return candidate
    raise FileNotFoundError(f"No models/{DEFAULT_MODEL} next to the package or bundled in it.")


@dataclass(frozen=True)
class WeightSet:
    """One model version: score = intercept + sum of weight * feature, always within 0..1."""

    version: int
    intercept: float
    weights: Mapping[str, float]
    # The weights in FEATURES order, made once from ``weights`` (read-only: every match shares it).
    _vector: Floats = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(FEATURES))
        missing = [name for name in FEATURES if name not in self.weights]
        if unknown or missing:
            raise ValueError(
                f"Weights must name every feature once: unknown {unknown}, missing {missing}."
            )
        values = {name: float(self.weights[name]) for name in FEATURES}
        bad = [name for name, w in values.items() if not (math.isfinite(w) and w >= 0)]
        if bad:
            raise ValueError(f"Weights must be finite and >= 0: {bad}.")
        intercept = float(self.intercept)
        if not (math.isfinite(intercept) and 0 <= intercept <= 1):
            raise ValueError("The intercept must be in [0, 1].")
        if intercept + sum(values.values()) > 1 + _TOLERANCE:
            raise ValueError("intercept + sum(weights) must be <= 1 so the score stays in 0..1.")
        object.__setattr__(self, "intercept", intercept)
        object.__setattr__(self, "weights", MappingProxyType(values))
        vector = np.array([values[name] for name in FEATURES], dtype=np.float64)
        vector.flags.writeable = False
        object.__setattr__(self, "_vector", vector)

    def __hash__(self) -> int:
        return hash((self.version, self.intercept, tuple(self.weights.items())))

    def vector(self) -> Floats:
        """The weights as an array in FEATURES order (read-only, made once)."""
        return self._vector

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeightSet:
        """Read the plain-data form (extra keys such as ``rationale`` are ignored)."""
        return cls(
            version=int(data["version"]),
            intercept=float(data["intercept"]),
            weights=dict(data["weights"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form, as stored in model files."""
        return {"version": self.version, "intercept": self.intercept, "weights": dict(self.weights)}


def load_default() -> WeightSet:
    """The shipped default model, ``models/default.json``."""
    text = (models_dir() / DEFAULT_MODEL).read_text(encoding="utf-8")
    return WeightSet.from_dict(json.loads(text))
