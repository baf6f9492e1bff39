"""Plain-language reasons for the shown results: what fits first, then the honest gaps."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from matcher import vocabulary as vocab
from matcher.core.scoring import features as ft
from matcher.core.scoring.features import FEATURES, ClientQuery
from matcher.core.scoring.filters import MIN_OVERLAP_MINUTES
from matcher.core.scoring.index import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    Floats,
    Rows,
    TherapistIndex,
    offset_slots,
    rotate,
    words_mask,
)
from matcher.core.scoring.weights import WeightSet

MAX_REASONS = 6
MAX_GAPS = 2  # always room for the two most important gaps, however many positives
STRONG_STYLE_FIT = 0.75
WEAK_STYLE_FIT = 0.5
STRONG_ALLIANCE = 0.7  # well above the 0.5 prior: a record built from several clients' ratings

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
CURRENCY_SIGNS: Mapping[str, str] = MappingProxyType(
    {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}
)
GENDER_PHRASES: Mapping[str, str] = MappingProxyType(
    {"woman": "A woman", "man": "A man", "nonbinary": "Nonbinary"}
)
COMMUNITY_PHRASES: Mapping[str, str] = MappingProxyType(
    {
        "immigrant_refugee": "immigrant and refugee clients",
        "transgender_nonbinary": "transgender and nonbinary clients",
        "deaf_hoh": "Deaf and hard-of-hearing clients",
        "disability": "clients with disabilities",
        "veteran": "veterans",
    }
)
EN_DASH = "\u2013"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_STARTS = sum(1 << (d * SLOTS_PER_DAY) for d in range(7))

Reason = tuple[str | None, str | None]  # (positive, gap)
_Place = tuple[float, float]  # (in-person fit, distance in km or NaN)


def _lower_first(label: str) -> str:
    """'Depression' -> 'depression', but 'ADHD' stays 'ADHD'."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _modality_label(code: str) -> str:
    label = vocab.MODALITIES.get(code, code)
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1 : -1]
    return _lower_first(label)


def _language_label(code: str) -> str:
    return vocab.languages().get(code, code)


def _concern_label(code: str) -> str:
    return _lower_first(vocab.CONCERNS.get(code, code.replace("_", " ")))


def _community_label(code: str) -> str:
    return COMMUNITY_PHRASES.get(code, f"{vocab.IDENTITIES.get(code, code)} clients")


def _plain_label(code: str) -> str:
    return code.replace("_", " ").title()


def _listing(items: Sequence[str], word: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _money(amount: float, currency: str | None) -> str:
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    sign = CURRENCY_SIGNS.get(currency or "USD")
    return f"{sign}{number}" if sign else f"{number} {currency}"


def _choice(position: int, count: int) -> str:
    if count == 1:
        return "as you asked"
    ordinal = ORDINALS[position] if position < len(ORDINALS) else f"number {position + 1}"
    return f"your {ordinal} choice"


def _clock(slot: int, *, end: bool = False) -> str:
    """A week slot as HH:MM; a window ending at midnight ends at 24:00."""
    minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
    if end and minutes == 0:
        minutes = 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Row:
    """The facts about one therapist that reasons need, read from the index once."""

    def __init__(
        self, index: TherapistIndex, q: ClientQuery, row: int, now: datetime, place: _Place
    ) -> None:
        self.index, self.q, self.row, self.now = index, q, row, now
        self.in_person_fit, self.distance_km = place

    def has(self, column: str, code: str) -> bool:
        """Whether the therapist lists ``code`` in a bitset column."""
        return self.index.lists(column, self.row, code)

    def code(self, table: str, column: str) -> str | None:
        """The therapist's code in a single-valued column (gender, currency)."""
        position = int(getattr(self.index, column)[self.row])
        codes = getattr(self.index.tables, table).codes
        return None if position < 0 else str(codes[position])


def _modality(r: _Row, value: float) -> Reason:
    offered = [i for i, code in enumerate(r.q.modalities) if r.has("modalities", code)]
    if offered:
        first = offered[0]
        label = _modality_label(r.q.modalities[first])
        return f"Offers {label}, {_choice(first, len(r.q.modalities))}", None
    return None, f"Does not offer {_listing([_modality_label(m) for m in r.q.modalities], 'or')}"


def _concerns(r: _Row, value: float) -> Reason:
    listed = [_concern_label(c) for c in r.q.concerns if r.has("concerns", c)]
    if listed:
        return f"Works with {_listing(listed[:3])}", None
    wanted = _listing([_concern_label(c) for c in r.q.concerns[:3]], "or")
    return None, f"Does not list {wanted} among their focus areas"


def _language(r: _Row, value: float) -> Reason:
    spoken = [code for code in r.q.languages if r.has("languages", code)]
    if not spoken:
        return None, f"Does not speak {_listing([_language_label(c) for c in r.q.languages], 'or')}"
    first = r.q.languages[0]
    gap = None if first in spoken else f"Does not speak {_language_label(first)}"
    return f"Speaks {_language_label(spoken[0])}", gap


def _identity(r: _Row, value: float) -> Reason:
    shared = [c for c in r.q.identities if r.has("identities", c)]
    known = [c for c in r.q.identities if r.has("competent", c) and c not in shared]
    if shared:
        labels = [vocab.IDENTITIES.get(c, c) for c in shared]
        return f"Shares your identity: {_listing(labels)}", None
    if known:
        gap = "Does not share your identity" if r.q.wants_shared_identity else None
        return f"Experienced with {_listing([_community_label(c) for c in known])}", gap
    wanted = _listing([_community_label(c) for c in r.q.identities], "or")
    return None, f"No listed experience with {wanted}"


def _faith(r: _Row, value: float) -> Reason:
    if value > 0 and r.q.faith is not None:
        return f"Shares your faith: {vocab.FAITHS.get(r.q.faith, r.q.faith)}", None
    return None, "Does not share your faith"


def _common_slots(r: _Row) -> int:
    """The weekly quarter hours both are free, in the client's own time."""
    zone = r.index.tables.timezones.codes[int(r.index.timezone[r.row])]
    shift = offset_slots(r.q.timezone, r.now) - offset_slots(zone, r.now)
    therapist = words_mask(r.index.availability[r.row])
    return r.q.availability & rotate(therapist, shift)


def _availability(r: _Row, value: float) -> Reason:
    common = _common_slots(r)
    if not common:
        return None, "No availability in the times you gave"
    minutes = SLOT_MINUTES * common.bit_count()
    if minutes < MIN_OVERLAP_MINUTES:
        return None, f"Only {minutes} minutes a week in common with your times"
    start = (common & -common).bit_length() - 1
    run = common >> start
    length = min((~run & (run + 1)).bit_length() - 1, SLOTS_PER_DAY - start % SLOTS_PER_DAY)
    day = DAY_NAMES[start // SLOTS_PER_DAY]
    text = f"Available {day} {_clock(start)}{EN_DASH}{_clock(start + length, end=True)} your time"
    # Windows are counted day by day: a slot starts one if the slot before is not free
    # or belongs to the day before.
    starts = common & ~((common << 1) & ~DAY_STARTS)
    more = starts.bit_count() - 1
    if more:
        text += f" (and {more} more {'window' if more == 1 else 'windows'})"
    return text, None


def _format(r: _Row, value: float) -> Reason:
    best, best_code = 0.0, ""
    for i, code in enumerate(r.q.formats):
        offered = r.has("formats", code)
        fit = r.in_person_fit if code == "in_person" else float(offered)
        if ft.rank_discount(i) * fit > best:
            best, best_code = ft.rank_discount(i) * fit, code
    if not best_code:
        return None, "Does not offer a session format you can attend"
    if best_code != "in_person":
        return f"Offers {vocab.FORMATS.get(best_code, best_code).lower()} sessions", None
    km = r.distance_km
    if math.isnan(km):
        return "Offers in-person sessions", None
    return ("In person, under 1 km away" if km < 1 else f"In person, {km:.0f} km away"), None


def _gender(r: _Row, value: float) -> Reason:
    if value > 0:
        code = r.code("genders", "gender") or ""
        choice = _choice(r.q.genders.index(code), len(r.q.genders))
        return f"{GENDER_PHRASES.get(code, code.title())}, {choice}", None
    return None, "Not the therapist gender you asked for"


def _cost(r: _Row, value: float) -> Reason:
    q, index, row = r.q, r.index, r.row
    if q.insurance is not None and r.has("insurance", q.insurance):
        return f"Accepts {_plain_label(q.insurance)}", None
    currency = r.code("currencies", "currency")
    fee, sliding = float(index.fee[row]), float(index.sliding[row])
    if q.max_fee is None:
        return None, f"Does not accept {_plain_label(q.insurance or '')}"
    limit = _money(q.max_fee, currency)
    if math.isnan(fee):
        return None, "No fee listed"
    if fee <= q.max_fee:
        return f"Fee {_money(fee, currency)} is within your {limit} limit", None
    above = f"Fee {_money(fee, currency)} is above your {limit} limit"
    if sliding <= q.max_fee:
        return f"{above}; sliding scale from {_money(sliding, currency)}", None
    return None, above


def _style(r: _Row, value: float) -> Reason:
    if value >= STRONG_STYLE_FIT:
        return "Therapy style close to what you asked for", None
    if value < WEAK_STYLE_FIT:
        return None, "Therapy style differs from what you asked for"
    return None, None


def _alliance(r: _Row, value: float) -> Reason:
    if value >= STRONG_ALLIANCE:
        return "Past clients rated their first sessions with this therapist highly", None
    return None, None


_EXPLAINERS: Mapping[str, Callable[[_Row, float], Reason]] = MappingProxyType(
    {
        "modality": _modality,
        "concerns": _concerns,
        "language": _language,
        "identity": _identity,
        "faith": _faith,
        "availability": _availability,
        "format": _format,
        "gender": _gender,
        "cost": _cost,
        "style": _style,
        "alliance": _alliance,
    }
)


def explain(
    index: TherapistIndex,
    q: ClientQuery,
    rows: Rows,
    values: Floats,
    weights: WeightSet,
    now: datetime,
) -> list[list[str]]:
    """Reasons for each of ``rows`` (the shown results), given their feature rows ``values``."""
    places: list[_Place] = [(0.0, math.nan)] * len(rows)
    if "in_person" in q.formats:  # distances for the shown results, in one vectorised call
        fits = ft.in_person_fit(index, q, rows).tolist()
        places = list(zip(fits, ft.distance_km(index, q, rows).tolist(), strict=True))
    return [
        _sentences(_Row(index, q, int(row), now, place), values[i], weights)
        for i, (row, place) in enumerate(zip(rows.tolist(), places, strict=True))
    ]


def _sentences(r: _Row, values: Floats, weights: WeightSet) -> list[str]:
    """Up to six short sentences: positives by what they add, then the gaps that cost most."""
    positives: list[tuple[float, str]] = []
    gaps: list[tuple[float, str]] = []
    for k, name in enumerate(FEATURES):
        if name != "alliance" and not r.q.gave(name):
            continue
        value = float(values[k])
        positive, gap = _EXPLAINERS[name](r, value)
        weight = weights.weights[name]
        if positive:
            positives.append((weight * value, positive))
        if gap:
            gaps.append((weight, gap))
    positives.sort(key=lambda pair: -pair[0])
    gaps.sort(key=lambda pair: -pair[0])
    room = MAX_REASONS - min(MAX_GAPS, len(gaps))
    kept = [text for _, text in positives[:room]]
    return kept + [text for _, text in gaps[: MAX_REASONS - len(kept)]]
