"""A deliberately plain reference scorer: one therapist at a time, straight from the definitions.

No numpy, no bitsets, no cleverness: each feature and filter is written the way the model card
states it, so the fast engine can be checked against it. Names and orders (the features, the
filters) come from the registry; the definitions do not, on purpose: a second, plain writing of
each feature is the check. A new feature needs its plain definition in DEFINITIONS (and in
MUST_HAVE_TESTS if it filters), or the property tests fail on a KeyError. Also home to the small
profile and intake factories the scoring tests share.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from matcher.core.scoring import FEATURES, FILTER_ORDER, RELAXABLE_FILTERS

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_RADIUS_KM = 30.0
EARTH_RADIUS_KM = 6371.0088


# --- the definitions -------------------------------------------------------------------------


def discount(i: int) -> float:
    """The rank discount of the client's i-th choice."""
    return max(0.25, 1 - 0.25 * i)


def unique(values: Any) -> list[Any]:
    """A list without None and without repeats, first mention first."""
    out: list[Any] = []
    for value in values or []:
        if value is not None and value not in out:
            out.append(value)
    return out


def minutes(clock: str) -> int:
    """Minutes since midnight of HH:MM."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def local_slots(windows: Any) -> set[int]:
    """Quarter hours of the week (Monday 00:00 = 0) that the windows cover entirely."""
    slots = set()
    for window in windows or []:
        day = DAYS.index(window["day"])
        for s in range(96):
            if minutes(window["start"]) <= s * 15 and (s + 1) * 15 <= minutes(window["end"]):
                slots.add(day * 96 + s)
    return slots


def offset_minutes(timezone: str | None, now: datetime) -> float:
    """UTC offset of a zone at the instant ``now`` (unknown zones: UTC)."""
    try:
        zone = zoneinfo.ZoneInfo(timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0.0
    offset = now.astimezone(zone).utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 60


def utc_slots(windows: Any, timezone: str | None, now: datetime) -> set[int]:
    """The same quarter hours, as quarter hours of the UTC week."""
    shift = round(offset_minutes(timezone, now) / 15)
    return {(s - shift) % 672 for s in local_slots(windows)}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0)))


class Client:
    """An intake with every preference read plainly."""

    def __init__(self, intake: Mapping[str, Any]) -> None:
        self.jurisdiction = intake.get("jurisdiction")
        self.age_group = intake.get("age_group") or None
        self.concerns = unique(intake.get("concerns"))
        self.modalities = unique(intake.get("modalities"))
        self.languages = unique(intake.get("languages"))
        self.identities = unique(intake.get("identities"))
        self.wants_shared = bool(intake.get("wants_shared_identity"))
        self.genders = unique(intake.get("therapist_genders"))
        self.faith = intake.get("faith") or None
        self.formats = unique(intake.get("formats"))
        loc = intake.get("location")
        self.location = (loc["lat"], loc["lon"]) if loc else None
        radius = intake.get("max_distance_km")
        self.radius = radius if radius is not None and radius > 0 else DEFAULT_RADIUS_KM
        self.timezone = intake.get("timezone")
        self.windows = intake.get("availability") or []
        self.max_fee = intake.get("max_fee")
        self.insurance = intake.get("insurance") or None
        self.style = {k: v for k, v in (intake.get("style") or {}).items() if v is not None}
        self.must_have = unique(intake.get("must_have"))
        self.exclude = unique(intake.get("exclude_therapists"))

    def gave(self, name: str) -> bool:
        """Whether the client gave a preference on this dimension."""
        return {
            "language": self.languages != [],
            "modality": self.modalities != [],
            "concerns": self.concerns != [],
            "identity": self.identities != [],
            "gender": self.genders != [],
            "faith": self.faith is not None,
            "format": self.formats != [],
            "availability": self.windows != [],
            "cost": self.max_fee is not None or self.insurance is not None,
        }[name]


def overlap(t: Mapping[str, Any], c: Client, now: datetime) -> int:
    """Weekly minutes both are free."""
    theirs = utc_slots(t.get("availability"), t.get("timezone") or "UTC", now)
    mine = utc_slots(c.windows, c.timezone, now)
    return 15 * len(theirs & mine)


def format_quality(t: Mapping[str, Any], c: Client, fmt: str) -> float:
    """How well the therapist offers one format (0 = not offered, or out of range)."""
    if fmt not in (t.get("formats") or []):
        return 0.0
    if fmt != "in_person" or c.location is None:
        return 1.0
    loc = t.get("location")
    if not loc:
        return 0.5
    dist = haversine_km(c.location, (loc["lat"], loc["lon"]))
    if dist > c.radius:
        return 0.0
    return 1.0 - 0.5 * dist / c.radius


def cost_fit(t: Mapping[str, Any], c: Client) -> float:
    """Insurance accepted 1; fee within budget 1; sliding scale within budget 0.7; else 0."""
    if c.insurance is not None and c.insurance in (t.get("insurance") or []):
        return 1.0
    if c.max_fee is None:
        return 0.0
    fee = t.get("fee")
    if fee is None:
        return 0.0
    if fee["amount"] <= c.max_fee:
        return 1.0
    if fee.get("sliding_scale_min") is not None and fee["sliding_scale_min"] <= c.max_fee:
        return 0.7
    return 0.0


def best_ranked(wanted: list[Any], offered: list[Any]) -> float:
    """max over the client's choices of discount * offered."""
    best = 0.0
    for i, item in enumerate(wanted):
        if item in offered:
            best = max(best, discount(i))
    return best


def concerns_fit(t: Mapping[str, Any], c: Client) -> float:
    """Rank-weighted share of the client's concerns the therapist lists."""
    if not c.concerns:
        return 0.0
    top = 0.0
    bottom = 0.0
    for i, concern in enumerate(c.concerns):
        if concern in (t.get("concerns") or []):
            top += discount(i)
        bottom += discount(i)
    return top / bottom


def identity_fit(t: Mapping[str, Any], c: Client) -> float:
    """Competence with the client's communities, half of it shared ones when asked for."""
    if not c.identities:
        return 0.0
    members = set(t.get("identities") or [])
    known = members | set(t.get("competencies") or [])
    competence = len([i for i in c.identities if i in known]) / len(c.identities)
    shared = len([i for i in c.identities if i in members]) / len(c.identities)
    return 0.5 * competence + 0.5 * shared if c.wants_shared else competence


def availability_fit(t: Mapping[str, Any], c: Client, now: datetime) -> float:
    """Overlap over min(2 hours, what the client gave), at most 1."""
    client_minutes = 15 * len(local_slots(c.windows))
    if not c.windows or client_minutes == 0:
        return 0.0
    return min(1.0, overlap(t, c, now) / min(120, client_minutes))


def format_fit(t: Mapping[str, Any], c: Client) -> float:
    """The best discounted format quality."""
    best = 0.0
    for i, fmt in enumerate(c.formats):
        best = max(best, discount(i) * format_quality(t, c, fmt))
    return best


def style_fit(t: Mapping[str, Any], c: Client) -> float:
    """1 - mean gap / 6 over the client's style dimensions."""
    if not c.style:
        return 0.0
    theirs = t.get("style") or {}
    gaps = [abs(v - (theirs.get(k) or 0)) for k, v in c.style.items()]
    return 1.0 - (sum(gaps) / len(gaps)) / 6


# Each feature's value for one therapist: (profile, client, instant, alliance records) -> [0, 1].
Definition = Callable[[Mapping[str, Any], Client, datetime, Mapping[str, float]], float]
DEFINITIONS: dict[str, Definition] = {
    "modality": lambda t, c, now, a: best_ranked(c.modalities, t.get("modalities") or []),
    "concerns": lambda t, c, now, a: concerns_fit(t, c),
    "language": lambda t, c, now, a: best_ranked(c.languages, t.get("languages") or []),
    "identity": lambda t, c, now, a: identity_fit(t, c),
    "faith": lambda t, c, now, a: float(c.faith is not None and t.get("faith") == c.faith),
    "availability": lambda t, c, now, a: availability_fit(t, c, now),
    "format": lambda t, c, now, a: format_fit(t, c),
    "gender": lambda t, c, now, a: best_ranked(c.genders, [t.get("gender")]),
    "cost": lambda t, c, now, a: cost_fit(t, c),
    "style": lambda t, c, now, a: style_fit(t, c),
    "alliance": lambda t, c, now, a: a.get(t["id"], 0.5),
}


def features(
    t: Mapping[str, Any], c: Client, now: datetime, alliance: Mapping[str, float]
) -> dict[str, float]:
    """Every feature value of one therapist for one client, in FEATURES order."""
    return {name: DEFINITIONS[name](t, c, now, alliance) for name in FEATURES}


def identity_passes(t: Mapping[str, Any], c: Client) -> bool:
    """Competent with one listed community (a member of one, when shared is asked)."""
    members = set(t.get("identities") or [])
    known = members | set(t.get("competencies") or [])
    return any(i in (members if c.wants_shared else known) for i in c.identities)


# Each relaxable filter: does one therapist pass it? (profile, client, instant) -> bool.
MustHave = Callable[[Mapping[str, Any], Client, datetime], bool]
MUST_HAVE_TESTS: dict[str, MustHave] = {
    "format": lambda t, c, now: any(format_quality(t, c, fmt) > 0 for fmt in c.formats),
    "language": lambda t, c, now: any(x in (t.get("languages") or []) for x in c.languages),
    "modality": lambda t, c, now: any(x in (t.get("modalities") or []) for x in c.modalities),
    "concerns": lambda t, c, now: any(x in (t.get("concerns") or []) for x in c.concerns),
    "identity": lambda t, c, now: identity_passes(t, c),
    "gender": lambda t, c, now: t.get("gender") in c.genders,
    "faith": lambda t, c, now: t.get("faith") == c.faith,
    "availability": lambda t, c, now: overlap(t, c, now) >= 60,
    "cost": lambda t, c, now: cost_fit(t, c) > 0,
}
# Filters on whenever their preference is given, must-have or not.
ALWAYS_ON = ("format",)


def fixed_failure(t: Mapping[str, Any], c: Client) -> str | None:
    """The first fixed filter this therapist fails, if any."""
    if c.jurisdiction not in [lic["jurisdiction"] for lic in t.get("licenses") or []]:
        return "jurisdiction"
    if not t.get("accepting_new_clients") or (t.get("capacity") or 0) <= 0:
        return "capacity"
    if c.age_group and c.age_group not in (t.get("populations") or ["adults"]):
        return "age_group"
    if t["id"] in c.exclude:
        return "excluded"
    return None


def relaxable_failures(t: Mapping[str, Any], c: Client, now: datetime) -> list[str]:
    """Every relaxable filter this therapist fails, in filter order."""
    failed = []
    for name in RELAXABLE_FILTERS:
        on = name in ALWAYS_ON or name in c.must_have
        if on and c.gave(name) and not MUST_HAVE_TESTS[name](t, c, now):
            failed.append(name)
    return failed


def reference_warnings(intake: Mapping[str, Any]) -> list[str]:
    """What the match should warn about: must-haves with nothing to enforce, in person unplaced."""
    c = Client(intake)
    sources = {
        "language": "languages",
        "modality": "modalities",
        "concerns": "concerns",
        "identity": "identities",
        "gender": "therapist_genders",
        "faith": "faith",
        "format": "formats",
        "availability": "availability",
        "cost": "max_fee or insurance",
    }
    out = [
        f"must_have '{name}' ignored: no {sources[name]} given"
        for name in RELAXABLE_FILTERS
        if name in c.must_have and not c.gave(name)
    ]
    if "in_person" in c.formats and c.location is None:
        out.append("formats 'in_person' given without a location: distance not checked")
    return out


def reference_match(
    profiles: Sequence[Mapping[str, Any]],
    intake: Mapping[str, Any],
    intercept: float,
    weights: Mapping[str, float],
    *,
    limit: int = 10,
    now: datetime,
    alliance: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Filter, score and rank, one therapist at a time."""
    c = Client(intake)
    excluded: dict[str, int] = {}
    only_failure: dict[str, int] = {}
    scored = []
    for t in profiles:
        fixed = fixed_failure(t, c)
        if fixed is not None:
            excluded[fixed] = excluded.get(fixed, 0) + 1
            continue
        failed = relaxable_failures(t, c, now)
        if failed:
            excluded[failed[0]] = excluded.get(failed[0], 0) + 1
            if len(failed) == 1:
                only_failure[failed[0]] = only_failure.get(failed[0], 0) + 1
            continue
        f = features(t, c, now, alliance or {})
        score = intercept
        for name in FEATURES:
            score = score + weights[name] * f[name]
        scored.append((score, t["id"], f))
    scored.sort(key=lambda item: (-item[0], item[1]))
    order = FILTER_ORDER
    relaxations: list[dict[str, Any]] = []
    if len(scored) < limit:
        for name in order:
            if only_failure.get(name, 0) > 0:
                relaxations.append({"drop": name, "adds": only_failure[name]})
        relaxations.sort(key=lambda r: -int(r["adds"]))
    return {
        "eligible": sorted(t_id for _, t_id, _ in scored),
        "excluded": {name: excluded[name] for name in order if excluded.get(name)},
        "relaxations": relaxations,
        "scores": {t_id: score for score, t_id, _ in scored},
        "features": {t_id: f for _, t_id, f in scored},
        "ranking": [t_id for _, t_id, _ in scored[:limit]],
    }


# --- small factories shared by the tests ---------------------------------------------------------


def make_profile(therapist_id: str = "t-1", **overrides: Any) -> dict[str, Any]:
    """A valid, unremarkable therapist profile in US-CA; override any field."""
    profile: dict[str, Any] = {
        "id": therapist_id,
        "name": f"Therapist {therapist_id}",
        "gender": "woman",
        "licenses": [{"jurisdiction": "US-CA", "credential": "Licensed Psychologist"}],
        "modalities": ["cbt"],
        "concerns": ["depression"],
        "populations": ["adults"],
        "languages": ["en"],
        "identities": [],
        "competencies": [],
        "faith": None,
        "formats": ["video"],
        "location": {"lat": 34.05, "lon": -118.24},
        "timezone": "America/Los_Angeles",
        "availability": [{"day": "tue", "start": "17:00", "end": "20:00"}],
        "accepting_new_clients": True,
        "capacity": 3,
        "fee": {"amount": 120, "currency": "USD", "sliding_scale_min": None},
        "insurance": [],
        "style": {},
    }
    profile.update(overrides)
    return profile


def make_intake(**overrides: Any) -> dict[str, Any]:
    """An intake with only the jurisdiction given; override any field."""
    intake: dict[str, Any] = {"jurisdiction": "US-CA"}
    intake.update(overrides)
    return intake
