"""Alliance instruments as scoring keys: item counts, ranges, subscales and scores, no wording.

WAI-SR items belong to the Society for Psychotherapy Research and the SRS is licensed for
organisations (research.md), so only item numbers and scoring keys live here. An organisation with
a licence can load its own item wording with ``load_wording``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Instrument:
    """One instrument's scoring key: items, their range, subscales (1-based items) and flags."""

    code: str
    name: str
    n_items: int
    item_min: float
    item_max: float
    integer_items: bool
    subscales: Mapping[str, tuple[int, ...]]
    # A total below this raises the ``concern`` flag; None when the instrument has no cut-off.
    concern_below: float | None = None

    @property
    def total_min(self) -> float:
        """The lowest possible total."""
        return self.n_items * self.item_min

    @property
    def total_max(self) -> float:
        """The highest possible total."""
        return self.n_items * self.item_max

    def score(self, total: float) -> float:
        """The total mapped linearly onto 0..1 (WAI-SR: (total - 12) / 48; SRS: total / 40)."""
        return (total - self.total_min) / (self.total_max - self.total_min)


# Hatcher & Gillaspy 2006: 12 items on 1..5; subscales from research.md (secondary). No official
# cut-offs exist (Horvath), so the WAI-SR raises no flag.
WAI_SR = Instrument(
    code="wai-sr",
    name="Working Alliance Inventory, short revised (Hatcher & Gillaspy 2006)",
    n_items=12,
    item_min=1,
    item_max=5,
    integer_items=True,
    subscales=MappingProxyType(
        {"task": (1, 2, 10, 12), "bond": (3, 5, 7, 9), "goal": (4, 6, 8, 11)}
    ),
)

# Duncan et al. 2003: four visual-analogue marks on 0..10 (decimals allowed); a total below ~36
# is commonly read as a concern (research.md, secondary).
SRS = Instrument(
    code="srs",
    name="Session Rating Scale v3 (Duncan et al. 2003)",
    n_items=4,
    item_min=0,
    item_max=10,
    integer_items=False,
    subscales=MappingProxyType(
        {"relationship": (1,), "goals": (2,), "approach": (3,), "overall": (4,)}
    ),
    concern_below=36,
)

INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType({i.code: i for i in (WAI_SR, SRS)})

# Visual-analogue marks are read to a tenth or so: sums are rounded so 8.7 + 9.3 + ... = 36 exactly.
_TOTAL_DECIMALS = 9


@dataclass(frozen=True)
class ScoredRating:
    """One rating scored: total, subscale sums, the 0..1 score and any flags."""

    total: float
    subscales: dict[str, float]
    score: float
    flags: dict[str, bool]


def instrument(code: str) -> Instrument:
    """The instrument with this code, or ValueError naming the known codes."""
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        known = ", ".join(sorted(INSTRUMENTS))
        raise ValueError(f"Unknown instrument {code!r}; known instruments: {known}.") from None


def _item_value(inst: Instrument, number: int, value: Any) -> float:
    """One item as a float, or ValueError naming the item (1-based)."""
    kind = "an integer" if inst.integer_items else "a number"
    expected = f"{kind} from {inst.item_min:g} to {inst.item_max:g}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{inst.code} item {number} must be {expected}, got {value!r}.")
    number_value = float(value)
    if not math.isfinite(number_value):
        raise ValueError(f"{inst.code} item {number} must be a finite number, got {value!r}.")
    # JSON has one number type, so 4.0 is read as the integer 4; 3.5 is refused.
    if inst.integer_items and not (isinstance(value, Integral) or number_value.is_integer()):
        raise ValueError(f"{inst.code} item {number} must be {expected}, got {value!r}.")
    if not inst.item_min <= number_value <= inst.item_max:
        raise ValueError(f"{inst.code} item {number} must be {expected}, got {value!r}.")
    return number_value


def score_items(instrument_code: str, items: Sequence[Any]) -> ScoredRating:
    """Score one completed form from its item values, refusing any bad item by its number."""
    inst = instrument(instrument_code)
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ValueError(f"{inst.code} items must be a list of {inst.n_items} numbers.")
    if len(items) != inst.n_items:
        raise ValueError(f"{inst.code} takes {inst.n_items} items, got {len(items)}.")
    values = [_item_value(inst, i, v) for i, v in enumerate(items, start=1)]
    total = round(math.fsum(values), _TOTAL_DECIMALS)
    subscales = {
        name: round(math.fsum(values[i - 1] for i in numbers), _TOTAL_DECIMALS)
        for name, numbers in inst.subscales.items()
    }
    flags = {"concern": total < inst.concern_below} if inst.concern_below is not None else {}
    return ScoredRating(total=total, subscales=subscales, score=inst.score(total), flags=flags)


def load_wording(path: str | Path) -> dict[str, list[str]]:
    """Read a licensed organisation's item wording: {"wai-sr": [12 texts], "srs": [4 texts]}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"Item wording file {path} is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ValueError("Item wording must be a JSON object keyed by instrument code.")
    wording: dict[str, list[str]] = {}
    for code, texts in data.items():
        inst = instrument(code)
        if not isinstance(texts, list) or len(texts) != inst.n_items:
            raise ValueError(f"Item wording for {code} must be a list of {inst.n_items} texts.")
        for number, text in enumerate(texts, start=1):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"Item wording for {code} item {number} must be non-empty text.")
        wording[code] = list(texts)
    return wording
