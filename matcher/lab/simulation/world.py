"""The simulated world: therapists, clients, and a true early alliance the service never sees.

The truth is defined here, from the raw profile and intake, by code that shares nothing with the
scoring engine's features, so that what the model measures is tested against research.md rather
than against itself. On the 0..1 WAI-SR scale ((total - 12) / 48):

    true alliance = BASE_ALLIANCE + v_c + u_t + the TRUE_EFFECTS that apply to the pair

Effect sizes d are converted with an alliance SD of ALLIANCE_SD = 0.15 (about 7 WAI-SR points,
the same assumption as ``matcher.core.learning.record``): an effect of d adds d * 0.15. A session's
rating is that truth plus session noise, cut into ordinal item scores (``course``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import NormalDist
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from matcher import vocabulary as vocab
from matcher.lab.synthetic import REGIONS, Metro, Region, generate_profiles
from matcher.schemas.intake import MUST_HAVE_SOURCES

ALLIANCE_SD = 0.15
# Assumption: early WAI-SR items average about 4 of 5, (47 - 12) / 48 = 0.73 (learning/record.py).
ALLIANCE_CENTRE = 0.73
BASE_ALLIANCE = 0.70  # before any match effect; typical effects met bring pairs near the centre
# Variance shares of one session's rating: therapist effects about 5% (Johns et al. 2019);
# dependability about .77 (Crits-Christoph et al. 2011), so 23% is session and item noise;
# between-client differences 65% (assumption); match effects take roughly what is left.
THERAPIST_SD = math.sqrt(0.05) * ALLIANCE_SD
CLIENT_SD = math.sqrt(0.65) * ALLIANCE_SD
SESSION_DEPENDABILITY = 0.77
ITEM_SD = 0.15  # item noise within a session (assumption: WAI-SR internal consistency ~ .92)
SESSION_SD = math.sqrt((1 - SESSION_DEPENDABILITY) * ALLIANCE_SD**2 - ITEM_SD**2 / 12)
# Ceiling effects (Meier & Feeley 2022): a latent normal cut so that over the population WAI-SR
# items fall in 1..5 about 2/5/17/40/36% of the time (assumption), piling ratings at 4-5.
WAI_SHARES = (0.02, 0.05, 0.17, 0.40)
WAI_THRESHOLDS = np.array(
    [
        ALLIANCE_CENTRE + math.hypot(ALLIANCE_SD, ITEM_SD) * NormalDist().inv_cdf(p)
        for p in np.cumsum(WAI_SHARES).tolist()
    ]
)
# SRS marks (0..10, to a tenth) from the same latent alliance: about 9 on average and often 10
# (assumption; totals below ~36 are commonly read as a concern, research.md, secondary).
SRS_SHARE = 0.2
SRS_CENTRE, SRS_SCALE, SRS_ITEM_SD = 0.9, 0.8, 0.10
# Early dropout after session 1 or 2, likelier after a weak session: the slope puts dropouts'
# session alliance about d = .55 below completers' (Sharf, Primavera & Diener 2010; the report
# measures the d produced). Base rates and the client propensity SD are assumptions.
DROPOUT_BASE = (0.12, 0.08)
DROPOUT_SLOPE = -0.62
DROPOUT_PROPENSITY_SD = 0.5
SESSIONS = 3
# A fixed match instant (a Monday before the 2026 US clock change), so runs repeat.
SIMULATED_NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# The directory lists 1..6 open slots; 3,000 referrals over 1,500 therapists (about 1,050 of them
# accepting) would empty it early, so accepting therapists get 4..12 slots (about 8,400 in all).
CAPACITY_RANGE = (4, 12)
WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class TrueEffect:
    """One way a pair's early alliance differs, with its size, source and model feature."""

    feature: str | None
    d: float
    source: str

    @property
    def size(self) -> float:
        """The effect on the 0..1 alliance scale: d * ALLIANCE_SD."""
        return self.d * ALLIANCE_SD


def _effect(feature: str, d: float, source: str) -> TrueEffect:
    return TrueEffect(feature, d, source)


TRUE_EFFECTS: Mapping[str, TrueEffect] = MappingProxyType(
    {
        "native_language": _effect(
            "language", 0.80, "Griner & Smith 2006: native-language (non-English) treatment "
            "about twice as effective; read as a large d = .8, limited-English clients only.",
        ),
        "language_preference": _effect(
            "language", 0.28, "Swift et al. 2018: accommodated preference, d = .28 (a "
            "bilingual client's first language).",
        ),
        "modality_first_choice": _effect(
            "modality", 0.28, "Swift et al. 2018: accommodated preference, d = .28 (first "
            "choice offered).",
        ),
        "modality_other_choice": _effect(
            "modality", 0.14, "Assumption: half of Swift et al.'s d when only a later choice "
            "is offered.",
        ),
        "style_accommodated": _effect(
            "style", 0.28, "Swift et al. 2018, d = .28, times the share of the client's C-NIP "
            "dimensions the therapist is within one point of.",
        ),
        "shared_identity_wanted": _effect(
            "identity", 0.32, "Cabral & Smith 2011: matched therapists perceived better, "
            "d = .32; when shared identity is asked for, times the share shared.",
        ),
        "cultural_competence": _effect(
            "identity", 0.30, "Tao et al. 2015: client-rated competence r = .29 with outcome "
            "(d ~ .6), halved as profile competence is self-claimed; times the share covered.",
        ),
        "faith_accommodated": _effect(
            "faith", 0.23, "Captari et al. 2018: religious accommodation g = .13 to .33 "
            "(midpoint).",
        ),
        "gender_match": _effect(
            "gender", 0.0, "Lambert 2016 (>17,000 clients): therapist gender match about zero."
        ),
        "specialty_fit": _effect(
            "concerns", 0.0, "Constantino et al. 2021: matching on therapist strengths showed "
            "no alliance difference.",
        ),
        "availability_fit": _effect(
            "availability", 0.10, "Assumption, small practical effect: a 50-minute session fits "
            "the client's times.",
        ),
        "affordable": _effect(
            "cost", 0.10, "Assumption, small practical effect: insurance or fee within budget "
            "(half through a sliding scale).",
        ),
        "format_first_choice": _effect(
            "format", 0.10, "Assumption, small practical effect: first-choice format offered; "
            "in person it fades from 10 km out to the client's radius.",
        ),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Truth:
    """What one world holds true: effect sizes (d), therapist share, ceiling, dropout, shapes.

    The research world (``RESEARCH``) is the one described above; ``matcher.lab.simulation.
    family`` draws others. ``step`` makes style and cultural competence all-or-nothing (only a
    full match counts); ``interaction`` (d) is added when a client's first language and every
    identity they give are both met by one therapist.
    """

    name: str = "research"
    effects: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({k: e.d for k, e in TRUE_EFFECTS.items()})
    )
    therapist_sd: float = THERAPIST_SD
    wai_shift: float = 0.0  # added to the WAI-SR item thresholds: below 0, more 5s (ceiling)
    srs_centre: float = SRS_CENTRE
    dropout_base: tuple[float, float] = DROPOUT_BASE
    dropout_slope: float = DROPOUT_SLOPE
    step: bool = False
    interaction: float = 0.0

    def size(self, name: str) -> float:
        """One effect on the 0..1 alliance scale: d * ALLIANCE_SD."""
        return float(self.effects.get(name, 0.0)) * ALLIANCE_SD

    def thresholds(self) -> npt.NDArray[np.float64]:
        """WAI-SR item thresholds of this world."""
        return WAI_THRESHOLDS + self.wai_shift


RESEARCH = Truth()


def feature_truth(truth: Truth = RESEARCH) -> dict[str, float]:
    """Per model feature, its largest true effect of a full match (``alliance`` has none)."""
    out: dict[str, float] = {}
    for name, effect in TRUE_EFFECTS.items():
        if effect.feature is not None:
            out[effect.feature] = max(out.get(effect.feature, 0.0), truth.size(name))
    return out


def _shares(text: str) -> dict[str, float]:
    return {code: float(w) for code, w in (item.split(":") for item in text.split())}


# Intake distributions: assumptions, except the limited-English share (about 8% of US residents
# aged 5+, Migration Policy Institute). Every field is given by only some clients.
RATES = _shares(
    "concerns:.80 modalities:.45 limited_english:.08 bilingual:.05 english:.15 heritage:.6 "
    "identities:.28 shared:.35 faith:.12 genders:.40 formats:.70 location:.60 radius:.20 "
    "availability:.50 insurance:.35 max_fee:.30 style:.30 must_have:.05"
)
AGE_GROUPS = _shares("none:.45 adults:.40 older_adults:.07 adolescents:.06 couples:.02")
CONCERNS = _shares(
    "anxiety:.22 depression:.20 stress:.10 relationships:.09 trauma:.09 self_esteem:.05 "
    "life_transitions:.05 grief:.04 family:.03 work:.03 ocd:.02 adhd:.02 substance_use:.02 "
    "identity:.015 eating:.01 anger:.01 sleep:.01 bipolar:.01 chronic_illness:.01 perinatal:.01 "
    "racial_trauma:.01"
)
MODALITIES = _shares(
    "cbt:.30 psychodynamic:.10 humanistic:.10 emdr:.08 dbt:.07 act:.07 mbct:.06 integrative:.05 "
    "family_systems:.04 solution_focused:.04 ipt:.03 cft:.03 schema:.03 "
    "motivational_interviewing:.03 narrative:.02 behavioral_activation:.02"
)
# Rough mix of limited-English speakers' languages in the US, Spanish first (assumption).
OTHER_LANGUAGES = _shares(
    "es:.62 zh:.07 vi:.04 ko:.03 tl:.03 ar:.03 ht:.02 fa:.02 hi:.02 ru:.02 pa:.01 ur:.01 ja:.01"
)
HERITAGE = {
    "es": "latinx", "zh": "east_asian", "ko": "east_asian", "ja": "east_asian",
    "vi": "southeast_asian", "tl": "southeast_asian", "ar": "mena", "fa": "mena",
    "hi": "south_asian", "pa": "south_asian", "ur": "south_asian", "ht": "black",
}  # fmt: skip
IDENTITIES = _shares(
    "lgbtq:.25 black:.18 latinx:.16 east_asian:.07 south_asian:.05 southeast_asian:.04 "
    "mena:.03 indigenous:.02 pacific_islander:.01 multiracial:.04 immigrant_refugee:.05 "
    "transgender_nonbinary:.05 disability:.04 deaf_hoh:.01 veteran:.04"
)
FAITHS = _shares("christian:.58 muslim:.12 jewish:.10 secular:.08 hindu:.05 buddhist:.05 sikh:.02")
GENDER_LISTS = (["woman"], ["man"], ["woman", "nonbinary"], ["nonbinary"])
GENDER_SHARES = (0.68, 0.22, 0.06, 0.04)
FORMAT_LISTS = (
    ["video"], ["in_person"], ["in_person", "video"], ["video", "in_person"], ["video", "phone"],
    ["phone", "video"],
)  # fmt: skip
FORMAT_SHARES = (0.25, 0.20, 0.25, 0.20, 0.05, 0.05)
INSURERS = _shares("bcbs:.3 aetna:.2 cigna:.15 united:.15 medicaid:.12 medicare:.08")
TIMES = (("17:00", "20:00"), ("08:00", "11:00"), ("12:00", "14:00"), ("14:00", "17:00"))
TIME_SHARES = (0.5, 0.2, 0.15, 0.15)
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.4, 0.2)


def _index(rng: np.random.Generator, weights: Sequence[float]) -> int:
    p = np.asarray(weights, dtype=np.float64)
    return int(rng.choice(len(p), p=p / p.sum()))


def _choice(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    return list(weights)[_index(rng, list(weights.values()))]


def _sample(rng: np.random.Generator, weights: Mapping[str, float], k: int) -> list[str]:
    """k codes without replacement, likelier ones first more often (an order of preference)."""
    p = np.array(list(weights.values()))
    picks = rng.choice(len(p), size=min(k, len(p)), replace=False, p=p / p.sum())
    codes = list(weights)
    return [codes[i] for i in picks.tolist()]


def _languages(rng: np.random.Generator) -> tuple[list[str], bool]:
    """Languages asked for, and whether the client has limited English."""
    u = rng.random()
    if u < RATES["limited_english"]:
        return [_choice(rng, OTHER_LANGUAGES)], True
    if u < RATES["limited_english"] + RATES["bilingual"]:
        return [_choice(rng, OTHER_LANGUAGES), "en"], False
    if u < RATES["limited_english"] + RATES["bilingual"] + RATES["english"]:
        return ["en"], False
    return [], False


def _identities(rng: np.random.Generator, languages: list[str], limited: bool) -> list[str]:
    heritage = HERITAGE.get(languages[0]) if languages else None
    if heritage is not None and rng.random() < RATES["heritage"]:
        return [heritage, "immigrant_refugee"] if limited and rng.random() < 0.5 else [heritage]
    if rng.random() < RATES["identities"]:
        return _sample(rng, IDENTITIES, int(rng.integers(1, 3)))
    return []


def _place(rng: np.random.Generator, metro: Metro) -> dict[str, float]:
    """A home near the metro centre, spread twice as wide as its practices."""
    north, east = rng.normal(0.0, 2 * metro.jitter_km, 2).tolist()
    lat = metro.lat + north / 111.32
    lon = metro.lon + east / (111.32 * math.cos(math.radians(metro.lat)))
    return {"lat": round(lat, 4), "lon": round(lon, 4)}


def _windows(rng: np.random.Generator) -> list[dict[str, str]]:
    chosen = {
        (_index(rng, DAY_WEIGHTS), _index(rng, TIME_SHARES)) for _ in range(rng.integers(1, 5))
    }
    return [
        {"day": vocab.DAYS[day], "start": TIMES[t][0], "end": TIMES[t][1]}
        for day, t in sorted(chosen)
    ]


def _style(rng: np.random.Generator) -> dict[str, int]:
    dims = _sample(rng, dict.fromkeys(vocab.STYLE_DIMENSIONS, 1.0), int(rng.integers(1, 5)))
    return {d: int(np.clip(np.rint(rng.normal(0.0, 1.6)), -3, 3)) for d in dims}


def draw_intake(rng: np.random.Generator, regions: Sequence[Region]) -> tuple[dict[str, Any], bool]:
    """A raw intake with a random subset of preferences; and whether English is limited."""
    region = regions[_index(rng, [r.population_m for r in regions])]
    metro = region.metros[_index(rng, [m.weight for m in region.metros])]
    intake: dict[str, Any] = {"jurisdiction": region.code}

    def gives(name: str) -> bool:
        return bool(rng.random() < RATES[name])

    age = _choice(rng, AGE_GROUPS)
    if age != "none":
        intake["age_group"] = age
    if gives("concerns"):
        intake["concerns"] = _sample(rng, CONCERNS, int(rng.integers(1, 4)))
    if gives("modalities"):
        intake["modalities"] = _sample(rng, MODALITIES, int(rng.integers(1, 3)))
    languages, limited = _languages(rng)
    if languages:
        intake["languages"] = languages
    identities = _identities(rng, languages, limited)
    if identities:
        intake["identities"] = identities
        intake["wants_shared_identity"] = gives("shared")
    if gives("faith"):
        intake["faith"] = _choice(rng, FAITHS)
    if gives("genders"):
        intake["therapist_genders"] = list(GENDER_LISTS[_index(rng, GENDER_SHARES)])
    if gives("formats"):
        intake["formats"] = list(FORMAT_LISTS[_index(rng, FORMAT_SHARES)])
    if rng.random() < (0.9 if "in_person" in intake.get("formats", ()) else RATES["location"]):
        intake["location"] = _place(rng, metro)
        if gives("radius"):
            intake["max_distance_km"] = float(5 * rng.integers(2, 11))
    if gives("availability"):
        intake["availability"] = _windows(rng)
        intake["timezone"] = metro.timezone
    if gives("insurance"):
        intake["insurance"] = _choice(rng, INSURERS)
    if gives("max_fee"):
        intake["max_fee"] = float(10 * rng.integers(8, 23))
    if gives("style"):
        intake["style"] = _style(rng)
    stated = [
        name
        for name, sources in MUST_HAVE_SOURCES.items()
        if name != "format" and any(intake.get(s) for s in sources)
    ]
    if stated and gives("must_have"):
        intake["must_have"] = [stated[int(rng.integers(len(stated)))]]
    return intake, limited


def utc_windows(
    windows: Sequence[Mapping[str, str]], zone: str | None
) -> tuple[tuple[int, int], ...]:
    """Weekly windows as UTC minute intervals within one week (split where they wrap)."""
    offset = ZoneInfo(zone).utcoffset(SIMULATED_NOW) if zone else None
    shift = int(offset.total_seconds() // 60) if offset is not None else 0
    out: list[tuple[int, int]] = []
    for window in windows:
        start = (vocab.DAYS.index(window["day"]) * 1440 + _minutes(window["start"]) - shift) % (
            WEEK_MINUTES
        )
        end = start + _minutes(window["end"]) - _minutes(window["start"])
        wraps = end > WEEK_MINUTES
        out.extend([(start, WEEK_MINUTES), (0, end - WEEK_MINUTES)] if wraps else [(start, end)])
    return tuple(out)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def overlap(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """Weekly minutes both sides are free."""
    return sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class SimTherapist:
    """What the truth reads from one profile, and the therapist's hidden effect u_t."""

    id: str
    effect: float
    modalities: frozenset[str]
    languages: frozenset[str]
    identities: frozenset[str]
    communities: frozenset[str]  # own identities and competencies
    faith: str | None
    formats: frozenset[str]
    location: tuple[float, float] | None
    insurance: frozenset[str]
    fee: float | None
    sliding: float | None
    style: Mapping[str, int]
    windows: tuple[tuple[int, int], ...]
    gender: str | None = None
    concerns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, profile: Mapping[str, Any], effect: float) -> SimTherapist:
        """Read one profile as the truth sees it."""
        fee = profile.get("fee") or {}
        place = profile.get("location")
        identities = frozenset(profile.get("identities") or ())
        return cls(
            id=str(profile["id"]),
            effect=effect,
            modalities=frozenset(profile.get("modalities") or ()),
            languages=frozenset(profile.get("languages") or ()),
            identities=identities,
            communities=identities | frozenset(profile.get("competencies") or ()),
            faith=profile.get("faith"),
            formats=frozenset(profile.get("formats") or ()),
            location=(float(place["lat"]), float(place["lon"])) if place else None,
            insurance=frozenset(profile.get("insurance") or ()),
            fee=fee.get("amount"),
            sliding=fee.get("sliding_scale_min"),
            style=dict(profile.get("style") or {}),
            windows=utc_windows(profile.get("availability") or (), profile.get("timezone")),
            gender=profile.get("gender"),
            concerns=frozenset(profile.get("concerns") or ()),
        )


@dataclass(frozen=True)
class SimClient:
    """A client: the intake the service sees, and hidden truths it never sees."""

    ref: str
    intake: dict[str, Any]
    limited_english: bool
    effect: float  # v_c: between-client differences in alliance
    dropout_propensity: float  # on the logit scale
    instrument: str  # "wai-sr" or "srs"
    # Read from the intake once, for the truth of every pair with this client.
    windows: tuple[tuple[int, int], ...]
    first_format: str | None
    home: tuple[float, float] | None

    @classmethod
    def of(
        cls,
        ref: str,
        intake: dict[str, Any],
        *,
        limited_english: bool,
        effect: float,
        dropout_propensity: float,
        instrument: str,
    ) -> SimClient:
        """A client from a raw intake and its hidden truths."""
        place = intake.get("location")
        formats = intake.get("formats") or ()
        return cls(
            ref=ref,
            intake=intake,
            limited_english=limited_english,
            effect=effect,
            dropout_propensity=dropout_propensity,
            instrument=instrument,
            windows=utc_windows(intake.get("availability") or (), intake.get("timezone")),
            first_format=formats[0] if formats else None,
            home=(float(place["lat"]), float(place["lon"])) if place else None,
        )


def match_effects(client: SimClient, t: SimTherapist, truth: Truth = RESEARCH) -> dict[str, float]:
    """The true effects that apply to one pair, on the 0..1 alliance scale (nonzero only)."""
    c = client.intake
    size = {name: truth.size(name) for name in TRUE_EFFECTS}
    out: dict[str, float] = {}
    modalities = c.get("modalities") or []
    if modalities and modalities[0] in t.modalities:
        out["modality_first_choice"] = size["modality_first_choice"]
    elif any(m in t.modalities for m in modalities[1:]):
        out["modality_other_choice"] = size["modality_other_choice"]
    languages = c.get("languages") or []
    native = bool(languages and languages[0] != "en" and languages[0] in t.languages)
    if native:
        name = "native_language" if client.limited_english else "language_preference"
        out[name] = size[name]
    identities = set(c.get("identities") or ())
    if identities:
        covered = len(identities & t.communities) / len(identities)
        out["cultural_competence"] = size["cultural_competence"] * _shaped(covered, truth)
        if c.get("wants_shared_identity"):
            shared = len(identities & t.identities) / len(identities)
            out["shared_identity_wanted"] = size["shared_identity_wanted"] * shared
        if native and covered == 1.0 and truth.interaction:
            out["language_and_identity"] = truth.interaction * ALLIANCE_SD
    if c.get("faith") is not None and c.get("faith") == t.faith:
        out["faith_accommodated"] = size["faith_accommodated"]
    style: Mapping[str, int] = c.get("style") or {}
    if style:
        near = sum(abs(v - t.style.get(k, 0)) <= 1 for k, v in style.items())
        out["style_accommodated"] = size["style_accommodated"] * _shaped(near / len(style), truth)
    genders = c.get("therapist_genders") or []
    if genders and t.gender in genders:
        out["gender_match"] = size["gender_match"]
    concerns = c.get("concerns") or []
    if concerns:
        fit = sum(k in t.concerns for k in concerns) / len(concerns)
        out["specialty_fit"] = size["specialty_fit"] * fit
    if client.windows and overlap(client.windows, t.windows) >= 50:
        out["availability_fit"] = size["availability_fit"]
    out["affordable"] = size["affordable"] * _affordable(c, t)
    out["format_first_choice"] = size["format_first_choice"] * _format_fit(client, t)
    return {name: value for name, value in out.items() if value > 0}


def _shaped(share: float, truth: Truth) -> float:
    """A share met, as the truth counts it: in proportion, or (step worlds) only when full."""
    return (1.0 if share >= 1.0 else 0.0) if truth.step else share


def _affordable(c: Mapping[str, Any], t: SimTherapist) -> float:
    if c.get("insurance") is not None and c["insurance"] in t.insurance:
        return 1.0
    budget = c.get("max_fee")
    if budget is None:
        return 0.0
    if t.fee is not None and t.fee <= budget:
        return 1.0
    return 0.5 if t.sliding is not None and t.sliding <= budget else 0.0


def _format_fit(client: SimClient, t: SimTherapist) -> float:
    first = client.first_format
    if first is None or first not in t.formats:
        return 0.0
    if first != "in_person" or client.home is None or t.location is None:
        return 1.0
    radius = float(client.intake.get("max_distance_km") or 30.0)
    km = distance_km(client.home, t.location)
    return min(1.0, max(0.0, (radius - km) / max(radius - 10.0, 1e-9)))


def true_alliance(client: SimClient, therapist: SimTherapist, truth: Truth = RESEARCH) -> float:
    """The pair's expected early alliance (no session noise) on the 0..1 WAI-SR scale."""
    effects = sum(match_effects(client, therapist, truth).values())
    return BASE_ALLIANCE + client.effect + therapist.effect + effects


@dataclass(frozen=True)
class Course:
    """How one referral went: each session's (number, instrument, items); when the client left."""

    ratings: list[tuple[int, str, list[float]]]
    latent: list[float]  # each session's latent alliance, before it was rated
    dropped_after: int | None


def course(
    rng: np.random.Generator, client: SimClient, expected: float, truth: Truth = RESEARCH
) -> Course:
    """Sessions 1..3: a latent alliance each session, rated, with early dropout after 1 or 2."""
    ratings: list[tuple[int, str, list[float]]] = []
    latents: list[float] = []
    for session in range(1, SESSIONS + 1):
        latent = expected + float(rng.normal(0.0, SESSION_SD))
        latents.append(latent)
        items = rate_items(rng, client.instrument, latent, truth)
        ratings.append((session, client.instrument, items))
        if session <= len(truth.dropout_base):
            base = truth.dropout_base[session - 1]
            z = (latent - ALLIANCE_CENTRE) / ALLIANCE_SD
            logit = math.log(base / (1 - base)) + truth.dropout_slope * z
            logit += client.dropout_propensity
            if rng.random() < 1.0 / (1.0 + math.exp(-logit)):
                return Course(ratings, latents, session)
    return Course(ratings, latents, None)


def rate_items(
    rng: np.random.Generator, instrument: str, latent: float, truth: Truth = RESEARCH
) -> list[float]:
    """Item scores for one session's latent alliance: WAI-SR 12 x 1..5, or SRS 4 x 0..10."""
    if instrument == "srs":
        noisy = latent + rng.normal(0.0, SRS_ITEM_SD, 4) - ALLIANCE_CENTRE
        marks = np.clip(10 * (truth.srs_centre + SRS_SCALE * noisy), 0, 10)
        return [round(float(m), 1) for m in marks.tolist()]
    items = latent + rng.normal(0.0, ITEM_SD, 12)
    return [float(1 + k) for k in np.searchsorted(truth.thresholds(), items).tolist()]


@dataclass
class World:
    """The directory with hidden therapist effects, and a source of new clients."""

    profiles: list[dict[str, Any]]
    therapists: dict[str, SimTherapist]
    regions: tuple[Region, ...]
    truth: Truth = RESEARCH
    drawn: int = 0
    clients: dict[str, SimClient] = field(default_factory=dict)  # every client drawn, by ref

    @classmethod
    def build(
        cls,
        count: int,
        *,
        jurisdictions: Sequence[str],
        seed: int,
        rng: np.random.Generator,
        truth: Truth = RESEARCH,
    ) -> World:
        """A ``matcher.lab.synthetic`` directory with raised capacity and hidden effects u_t."""
        profiles = generate_profiles(count, seed=seed, jurisdictions=jurisdictions)
        low, high = CAPACITY_RANGE
        slots = rng.integers(low, high + 1, len(profiles)).tolist()
        effects = rng.normal(0.0, truth.therapist_sd, len(profiles)).tolist()
        for profile, slot in zip(profiles, slots, strict=True):
            if profile["accepting_new_clients"]:
                profile["capacity"] = slot
        therapists = {
            p["id"]: SimTherapist.of(p, u) for p, u in zip(profiles, effects, strict=True)
        }
        regions = tuple(REGIONS[code] for code in dict.fromkeys(jurisdictions))
        return cls(profiles=profiles, therapists=therapists, regions=regions, truth=truth)

    def client(self, rng: np.random.Generator) -> SimClient:
        """A new client: a random subset of preferences, and hidden truths."""
        self.drawn += 1
        intake, limited = draw_intake(rng, self.regions)
        client = SimClient.of(
            f"sim-{self.drawn:06d}",
            intake,
            limited_english=limited,
            effect=float(rng.normal(0.0, CLIENT_SD)),
            dropout_propensity=float(rng.normal(0.0, DROPOUT_PROPENSITY_SD)),
            instrument="srs" if rng.random() < SRS_SHARE else "wai-sr",
        )
        self.clients[client.ref] = client
        return client

    def alliance(self, client: SimClient, therapist_id: str) -> float:
        """The pair's expected early alliance in this world."""
        return true_alliance(client, self.therapists[therapist_id], self.truth)
