"""Fictional therapist profiles for the demo directory and benchmarks: realistic, never real.

Every profile is drawn from one ``numpy.random.default_rng(seed)`` stream, so the same arguments
give the same profiles. Sampling is vectorised over the whole directory; only the final
assembly of lists and dicts is plain Python. The figures behind each distribution, and which of
them are assumptions, are tabulated in ``profiles/README.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from matcher import vocabulary as vocab
from matcher.lab.synthetic.tables import (
    ACCEPTING_RATE,
    AM_START_SHARES,
    AM_STARTS,
    CANADIAN_LETTERS,
    CAPACITY_SHARES,
    CHILD_SPECIALIST,
    CHILD_SPECIALIST_RATE,
    CLOCK,
    COMPETENCE_BASE,
    CONCERN_BASE,
    CONCERN_CODES,
    CONCERNS_BY_MODALITY,
    CONCERNS_BY_POPULATION,
    CURRENCIES,
    DAY_OF_SLOT,
    DEFAULT_COUNT,
    DEFAULT_SEED,
    EXTRA_LANGUAGE_RATE,
    EXTRA_LANGUAGES,
    FAITH_CODES,
    FAITH_LISTED_RATE,
    FEE_RANGES,
    FEE_SPREAD,
    FORMAT_MODE_SHARES,
    FORMAT_MODES,
    FRENCH_FIRST_ENGLISH,
    GENDER_CODES,
    GENDER_SHARES,
    ID_PATTERN,
    IDENTITY_CODES,
    IDENTITY_RATES,
    INSURER_BASE,
    INSURER_BY_KIND,
    INSURERS,
    KAISER,
    KINDS,
    KM_PER_DEGREE,
    LATEST_END,
    MAX_INSURERS,
    MODALITY_BASE,
    MODALITY_BY_KIND,
    MODALITY_CODES,
    MULTIRACIAL_RATE,
    NAME_GROUPS,
    NEUTRAL_NAMES,
    OWN_IDENTITY_COMPETENCE,
    PHONE_RATE,
    PM_START_SHARES,
    PM_STARTS,
    POPULATION_BASE,
    POPULATION_BY_KIND,
    POPULATION_CODES,
    POSTAL_LETTERS,
    PSYCHOLOGIST_FEE_FACTOR,
    PSYD_SHARE,
    QUEBEC_FRENCH_FIRST,
    REGIONS,
    SECOND_LICENSE_RATE,
    SELF_PAY_RATE,
    SLIDING_SCALE_RATE,
    SLOT_WEIGHTS,
    STYLE_BY_MODALITY,
    STYLE_CODES,
    STYLE_SPREAD,
    TITLE_EXCEPTIONS,
    TITLES,
    VETERAN_RATE,
    WINDOW_COUNT_SHARES,
    Bools,
    Floats,
    Ints,
    Metro,
    Region,
)

GROUP_NAMES = tuple(NAME_GROUPS)
MINORITY = np.array([NAME_GROUPS[g].identity is not None for g in GROUP_NAMES])
SPEAKS_HOME_LANGUAGE = np.array([NAME_GROUPS[g].speaks for g in GROUP_NAMES])
SPANISH_AT_HOME = np.array(["es" in NAME_GROUPS[g].languages for g in GROUP_NAMES])
FIELDS = (
    "id", "name", "gender", "licenses", "modalities", "concerns", "populations", "languages",
    "identities", "competencies", "faith", "formats", "location", "timezone", "availability",
    "accepting_new_clients", "capacity", "fee", "insurance", "style",
)  # fmt: skip


def _matrix(rows: Sequence[str], cols: Sequence[str], cells: Mapping[str, Any]) -> Floats:
    """A rows x cols table from nested mappings (missing cells are zero)."""
    table = np.zeros((len(rows), len(cols)))
    for row, entries in cells.items():
        for col, value in entries.items():
            table[rows.index(row), cols.index(col)] = value
    return table


def _vector(cols: Sequence[str], cells: Mapping[str, float]) -> Floats:
    row: Floats = _matrix(("",), cols, {"": cells})[0]
    return row


def _cdf(weights: Floats) -> Floats:
    """Cumulative distributions along the last axis, each normalised to end at 1."""
    result: Floats = np.cumsum(weights / weights.sum(axis=-1, keepdims=True), axis=-1)
    return result


def _categorical(u: Floats, cdf: Floats) -> Ints:
    """The category each uniform draw falls in, for one or per-row cumulative distributions."""
    index: Ints = np.minimum((u[..., None] >= cdf).sum(axis=-1), cdf.shape[-1] - 1)
    return index


def _split(flat: list[Any], counts: Ints) -> list[list[Any]]:
    """Cut a flat list into consecutive rows of the given lengths."""
    items = iter(flat)
    return [list(islice(items, k)) for k in counts.tolist()]


def _mask_codes(mask: Bools, names: Sequence[str]) -> list[list[str]]:
    """The codes set in each row of a mask, in vocabulary order."""
    _, cols = np.nonzero(mask)
    return _split(np.asarray(names, dtype=object)[cols].tolist(), mask.sum(axis=1))


@dataclass(frozen=True)
class Picks:
    """A chosen subset per row: items by strength of choice, their counts, and a mask."""

    order: Ints
    counts: Ints
    mask: Bools

    def codes(self, names: Sequence[str]) -> list[list[str]]:
        """The chosen codes per row, strongest first."""
        rows, ranks = np.nonzero(np.arange(self.order.shape[1]) < self.counts[:, None])
        flat = np.asarray(names, dtype=object)[self.order[rows, ranks]].tolist()
        return _split(flat, self.counts)


def _pick(rng: np.random.Generator, probs: Floats, low: Any, high: Any) -> Picks:
    """Include each item with its probability, then clamp each row's count to low..high."""
    keys = rng.random(probs.shape) / np.maximum(probs, 1e-6)
    counts = np.clip((keys < 1.0).sum(axis=1), low, high)
    order = np.argsort(keys, axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return Picks(order, counts, rank < counts[:, None])


def _round5(values: Floats) -> Floats:
    rounded: Floats = np.round(values / 5.0) * 5.0
    return rounded


def _select_regions(jurisdictions: Sequence[str] | None) -> tuple[Region, ...]:
    """The regions to draw from, in the order given; unknown codes are an error."""
    codes = list(REGIONS) if jurisdictions is None else list(dict.fromkeys(jurisdictions))
    unknown = [code for code in codes if code not in REGIONS]
    if unknown or not codes:
        raise ValueError(f"choose jurisdictions from {', '.join(REGIONS)}; got {unknown or codes}")
    return tuple(REGIONS[code] for code in codes)


def _check_ids(count: int, id_prefix: str) -> None:
    if count < 0:
        raise ValueError("count must be >= 0")
    if not ID_PATTERN.fullmatch(f"{id_prefix}{max(count, 1):06d}"):
        raise ValueError(f"id_prefix {id_prefix!r} gives ids outside {ID_PATTERN.pattern}")


def _title(jurisdiction: str, kind: str) -> str:
    """The credential a therapist of this kind holds in this jurisdiction."""
    return TITLE_EXCEPTIONS.get((jurisdiction, kind)) or TITLES[jurisdiction[:2]][kind]


def _letters(jurisdiction: str, kind: str, psyd: bool) -> str:
    """The letters after the name, consistent with the primary credential."""
    if kind == "psychologist":
        return ("PsyD" if psyd else "PhD") + CANADIAN_LETTERS.get((jurisdiction, kind), "")
    if jurisdiction.startswith("US-"):
        return _title(jurisdiction, kind)
    default = "MSW, RSW" if kind == "social_worker" else "MA, CCC"
    return CANADIAN_LETTERS.get((jurisdiction, kind), default)


def _postal_code(metro: Metro, country: str, u: Sequence[float]) -> str:
    """A ZIP code (US) or an "A1A 1A1" code (Canada) in the metro's postal area."""
    prefix = metro.postal_prefixes[int(u[0] * len(metro.postal_prefixes))]
    if country == "US":
        return f"{prefix}{int(u[1] * 100):02d}"
    letter = [POSTAL_LETTERS[int(x * len(POSTAL_LETTERS))] for x in u[1:4:2]]
    return f"{prefix}{letter[0]} {int(u[2] * 10)}{letter[1]}{int(u[4] * 10)}"


def _places(rng: np.random.Generator, regions: Sequence[Region], region: Ints) -> dict[str, Any]:
    """Location and time zone: a real metro centre with a few kilometres of jitter."""
    n, width = len(region), max(len(r.metros) for r in regions)
    weights, centres = np.zeros((len(regions), width)), np.zeros((len(regions), width, 3))
    for i, r in enumerate(regions):
        for j, m in enumerate(r.metros):
            weights[i, j], centres[i, j] = m.weight, (m.lat, m.lon, m.jitter_km)
    metro = _categorical(rng.random(n), _cdf(weights)[region])
    lat0, lon0, km = np.moveaxis(centres[region, metro], -1, 0)
    jitter = rng.standard_normal((n, 2)) * km[:, None] / KM_PER_DEGREE
    lat = np.round(lat0 + jitter[:, 0], 4).tolist()
    lon = np.round(lon0 + jitter[:, 1] / np.cos(np.radians(lat0)), 4).tolist()
    postal = rng.random((n, 5)).tolist()
    metros = [regions[r].metros[m] for r, m in zip(region.tolist(), metro.tolist(), strict=True)]
    countries = [regions[r].country for r in region.tolist()]
    rows = zip(lat, lon, metros, countries, postal, strict=True)
    return {
        "location": [
            {"lat": la, "lon": lo, "postal_code": _postal_code(m, c, u)} for la, lo, m, c, u in rows
        ],
        "timezone": [m.timezone for m in metros],
    }


@dataclass(frozen=True)
class People:
    """Who the therapists are: background, gender, credential kind, languages, identities."""

    group: Ints
    gender: Ints
    kind: Ints
    multiracial: Bools
    heritage: Bools  # lists the home languages of their background
    spanish: Bools
    identities: Bools


def _draw_people(rng: np.random.Generator, regions: Sequence[Region], region: Ints) -> People:
    """Background, gender and credential kind, then the languages and identities they imply."""
    n = len(region)
    group_weights = np.array([[r.groups.get(g, 0.0) for g in GROUP_NAMES] for r in regions])
    kind_weights = np.array([[r.credentials.get(k, 0.0) for k in KINDS] for r in regions])
    u = rng.random((n, 6))
    group = _categorical(u[:, 0], _cdf(group_weights)[region])
    gender = _categorical(u[:, 1], _cdf(GENDER_SHARES))
    kind = _categorical(u[:, 2], _cdf(kind_weights)[region])
    minority = MINORITY[group]
    multiracial = minority & (u[:, 3] < MULTIRACIAL_RATE)
    speaks = SPEAKS_HOME_LANGUAGE[group]
    heritage = u[:, 4] < np.where(multiracial, speaks / 2, speaks)
    learned = u[:, 5] < np.array([r.spanish for r in regions])[region]
    spanish = (SPANISH_AT_HOME[group] & heritage) | learned
    identities = _identities(rng, group, gender, multiracial, heritage & minority)
    return People(group, gender, kind, multiracial, heritage, spanish, identities)


def _identities(
    rng: np.random.Generator, group: Ints, gender: Ints, multiracial: Bools, migrant: Bools
) -> Bools:
    """Communities each therapist belongs to, as a mask over the identity codes."""
    n, col = len(group), IDENTITY_CODES.index
    table = np.zeros((n, len(IDENTITY_CODES)), dtype=bool)
    own = np.array([col(NAME_GROUPS[g].identity or "multiracial") for g in GROUP_NAMES])[group]
    minority = MINORITY[group]
    table[np.flatnonzero(minority), own[minority]] = True
    table[:, col("multiracial")] |= multiracial
    u = rng.random((n, 6))
    trans = (gender == GENDER_CODES.index("nonbinary")) | (u[:, 0] < IDENTITY_RATES["transgender"])
    table[:, col("transgender_nonbinary")] = trans
    table[:, col("lgbtq")] = trans | (u[:, 1] < IDENTITY_RATES["lgbtq"])
    # Speaking a minority home language makes a first- or second-generation migrant likelier.
    immigrant = np.where(migrant, 0.45, np.where(minority, 0.06, 0.015))
    table[:, col("immigrant_refugee")] = u[:, 2] < immigrant
    table[:, col("disability")] = u[:, 3] < IDENTITY_RATES["disability"]
    table[:, col("deaf_hoh")] = u[:, 4] < IDENTITY_RATES["deaf_hoh"]
    table[:, col("veteran")] = u[:, 5] < VETERAN_RATE[gender]
    return table


def _competencies(rng: np.random.Generator, people: People) -> Bools:
    """Most of a therapist's own identities plus communities they are trained to work with."""
    col = IDENTITY_CODES.index
    base = np.broadcast_to(_vector(IDENTITY_CODES, COMPETENCE_BASE), people.identities.shape)
    probs = np.where(people.identities, OWN_IDENTITY_COMPETENCE, base)
    # Spanish-speaking therapists often work with Latinx clients.
    spanish = np.where(people.spanish, 0.5, 0.0)
    probs[:, col("latinx")] = np.maximum(probs[:, col("latinx")], spanish)
    mask: Bools = rng.random(probs.shape) < probs
    # Trans-affirming practice mostly comes with LGBTQ+-affirming practice.
    tnb = col("transgender_nonbinary")
    affirming = np.where(mask[:, col("lgbtq")], 0.5, 0.0)
    mask[:, tnb] = rng.random(len(mask)) < np.maximum(affirming, probs[:, tnb])
    return mask


def _names_and_licenses(
    rng: np.random.Generator, regions: Sequence[Region], region: Ints, people: People
) -> dict[str, list[Any]]:
    """Display names with credential letters, and one or two licences."""
    u = rng.random((len(region), 5)).tolist()
    names, licenses = [], []
    rows = zip(
        region.tolist(), people.group.tolist(), people.gender.tolist(), people.kind.tolist(),
        people.multiracial.tolist(), u, strict=True,
    )  # fmt: skip
    for r, g, sex, k, mixed, draw in rows:
        code, kind, group = regions[r].code, KINDS[k], NAME_GROUPS[GROUP_NAMES[g]]
        given_from = NAME_GROUPS["anglo"] if mixed else group
        pool = (given_from.women, given_from.men, NEUTRAL_NAMES)[sex]
        given = pool[int(draw[0] * len(pool))]
        surname = group.surnames[int(draw[1] * len(group.surnames))]
        names.append(f"{given} {surname}, {_letters(code, kind, draw[2] < PSYD_SHARE)}")
        held = [{"jurisdiction": code, "credential": _title(code, kind)}]
        if draw[3] < SECOND_LICENSE_RATE:
            other = regions[r].neighbours[int(draw[4] * len(regions[r].neighbours))]
            held.append({"jurisdiction": other, "credential": _title(other, kind)})
        licenses.append(held)
    genders = [GENDER_CODES[s] for s in people.gender.tolist()]
    return {"name": names, "gender": genders, "licenses": licenses}


def _languages(
    rng: np.random.Generator, regions: Sequence[Region], region: Ints, people: People
) -> list[list[str]]:
    """Languages spoken, primary first: English, or French for most of Quebec."""
    u = rng.random((len(region), 3 + len(EXTRA_LANGUAGES)))
    francophone = np.array([r.francophone for r in regions])[region]
    french_group = people.group == GROUP_NAMES.index("french")
    fr_first = francophone & (french_group | (u[:, 0] < QUEBEC_FRENCH_FIRST))
    english = ~fr_first | (u[:, 1] < FRENCH_FIRST_ENGLISH)
    french = u[:, 2] < np.array([r.french for r in regions])[region]
    extras = _mask_codes(u[:, 3:] < EXTRA_LANGUAGE_RATE, EXTRA_LANGUAGES)
    result = []
    rows = zip(
        fr_first.tolist(), english.tolist(), people.group.tolist(), people.heritage.tolist(),
        people.spanish.tolist(), french.tolist(), extras, strict=True,
    )  # fmt: skip
    for first_fr, en, g, heritage, es, fr, extra in rows:
        spoken = ["fr", "en"] if first_fr and en else ["fr"] if first_fr else ["en"]
        if heritage:
            spoken.extend(NAME_GROUPS[GROUP_NAMES[g]].languages)
        spoken.extend([*(["es"] if es else []), *(["fr"] if fr else []), *extra])
        result.append(list(dict.fromkeys(spoken)))
    return result


def _faiths(rng: np.random.Generator, people: People) -> list[str | None]:
    """A quarter list a faith, drawn from the mix of their background."""
    weights = np.array(
        [[NAME_GROUPS[g].faiths.get(f, 0.0) for f in FAITH_CODES] for g in GROUP_NAMES]
    )
    u = rng.random((len(people.group), 2))
    faith = _categorical(u[:, 1], _cdf(weights)[people.group]).tolist()
    listed = (u[:, 0] < FAITH_LISTED_RATE).tolist()
    return [FAITH_CODES[f] if shown else None for f, shown in zip(faith, listed, strict=True)]


def _practice(rng: np.random.Generator, people: People) -> tuple[Picks, Picks, Picks]:
    """Modalities, populations and concerns, each correlated with the ones before."""
    kinds = people.kind
    modality_probs = (
        _vector(MODALITY_CODES, MODALITY_BASE)
        + _matrix(KINDS, MODALITY_CODES, MODALITY_BY_KIND)[kinds]
    )
    modalities = _pick(rng, np.clip(modality_probs, 0.01, 0.95), 1, 5)
    population_probs = (
        _vector(POPULATION_CODES, POPULATION_BASE)
        + _matrix(KINDS, POPULATION_CODES, POPULATION_BY_KIND)[kinds]
    )
    child = rng.random(len(kinds)) < CHILD_SPECIALIST_RATE
    population_probs[child] = _vector(POPULATION_CODES, CHILD_SPECIALIST)
    populations = _pick(rng, np.clip(population_probs, 0.0, 0.97), 1, len(POPULATION_CODES))
    concern_probs = _concern_probs(people, modalities.mask, populations.mask)
    return modalities, populations, _pick(rng, concern_probs, 3, 8)


def _concern_probs(people: People, modalities: Bools, populations: Bools) -> Floats:
    """How likely each concern is listed, given modalities, populations and identities."""
    col = CONCERN_CODES.index
    probs = (
        _vector(CONCERN_CODES, CONCERN_BASE)
        + modalities @ _matrix(MODALITY_CODES, CONCERN_CODES, CONCERNS_BY_MODALITY)
        + populations @ _matrix(POPULATION_CODES, CONCERN_CODES, CONCERNS_BY_POPULATION)
    )
    racial = people.identities[:, : IDENTITY_CODES.index("immigrant_refugee")].any(axis=1)
    probs[:, col("racial_trauma")] += 0.2 * racial
    probs[:, col("identity")] += 0.12 * people.identities[:, IDENTITY_CODES.index("lgbtq")]
    probs[:, col("perinatal")] += 0.03 * (people.gender == GENDER_CODES.index("woman"))
    return np.clip(probs, 0.01, 0.95)


def _style(rng: np.random.Generator, modalities: Bools) -> list[dict[str, int]]:
    """C-NIP style, roughly normal around the mean lean of the therapist's modalities."""
    shifts = _matrix(MODALITY_CODES, STYLE_CODES, STYLE_BY_MODALITY)
    lean = (modalities @ shifts) / modalities.sum(axis=1, keepdims=True)
    noise = rng.standard_normal((len(modalities), len(STYLE_CODES))) * STYLE_SPREAD
    scores = np.clip(np.rint(lean + noise), vocab.STYLE_MIN, vocab.STYLE_MAX).astype(int)
    return [dict(zip(STYLE_CODES, row, strict=True)) for row in scores.tolist()]


def _formats(rng: np.random.Generator, n: int) -> list[list[str]]:
    """In person, video or both, and phone for some."""
    u = rng.random((n, 2))
    mode = _categorical(u[:, 0], _cdf(FORMAT_MODE_SHARES)).tolist()
    phone = (u[:, 1] < PHONE_RATE).tolist()
    return [[*FORMAT_MODES[m], *(["phone"] if p else [])] for m, p in zip(mode, phone, strict=True)]


def _availability(rng: np.random.Generator, n: int) -> list[list[dict[str, str]]]:
    """Two to six weekly windows in local time: at most one morning and one afternoon a day."""
    slots = len(SLOT_WEIGHTS)
    windows = _categorical(rng.random(n), _cdf(WINDOW_COUNT_SHARES)) + 2
    # Weighted sampling without replacement: the smallest exponential "arrival times" win.
    arrival = -np.log1p(-rng.random((n, slots))) / SLOT_WEIGHTS
    rank = np.argsort(np.argsort(arrival, axis=1, kind="stable"), axis=1, kind="stable")
    rows, slot = np.nonzero(rank < windows[:, None])
    u = rng.random((n, slots, 2))[rows, slot]
    afternoon = slot % 2 == 1
    am = AM_STARTS[_categorical(u[:, 0], _cdf(AM_START_SHARES))]
    pm = PM_STARTS[_categorical(u[:, 0], _cdf(PM_START_SHARES))]
    latest = LATEST_END[slot]
    start = np.minimum(np.where(afternoon, pm, am), latest - 4)  # leave at least two hours
    end = np.minimum(start + 4 + np.floor(u[:, 1] * 5).astype(int), latest)
    flat = [
        {"day": d, "start": s, "end": e}
        for d, s, e in zip(
            DAY_OF_SLOT[slot].tolist(), CLOCK[start].tolist(), CLOCK[end].tolist(), strict=True
        )
    ]
    return _split(flat, windows)


def _openings(rng: np.random.Generator, n: int) -> dict[str, list[Any]]:
    """Whether the directory lists the therapist as accepting, and how many open slots."""
    u = rng.random((n, 2))
    accepting = u[:, 0] < ACCEPTING_RATE
    capacity = np.where(accepting, _categorical(u[:, 1], _cdf(CAPACITY_SHARES)) + 1, 0)
    return {"accepting_new_clients": accepting.tolist(), "capacity": capacity.tolist()}


def _fees(
    rng: np.random.Generator, regions: Sequence[Region], region: Ints, people: People
) -> list[dict[str, Any]]:
    """Session fee in local currency, lognormal around the region's median; some slide."""
    n = len(region)
    psychologist = people.kind == KINDS.index("psychologist")
    median = np.array([r.fee_median for r in regions])[region]
    factor = np.array([PSYCHOLOGIST_FEE_FACTOR[r.country] for r in regions])[region]
    median = median * np.where(psychologist, factor, 1.0)
    ranges = np.array([FEE_RANGES[r.country] for r in regions])[region]
    low, high = ranges[np.arange(n), psychologist.astype(int)].T
    amount = np.clip(_round5(median * np.exp(FEE_SPREAD * rng.standard_normal(n))), low, high)
    u = rng.random((n, 2))
    sliding = np.minimum(_round5(amount * (0.4 + 0.35 * u[:, 1])), amount - 10)
    offers = (u[:, 0] < SLIDING_SCALE_RATE).tolist()
    currency = [CURRENCIES[regions[r].country] for r in region.tolist()]
    rows = zip(amount.tolist(), currency, sliding.tolist(), offers, strict=True)
    return [
        {"amount": int(a), "currency": c, "sliding_scale_min": int(s) if slides else None}
        for a, c, s, slides in rows
    ]


def _insurance(
    rng: np.random.Generator, regions: Sequence[Region], region: Ints, people: People
) -> list[list[str]]:
    """Plans billed directly: US insurers, Canadian extended-health plans; many take none."""
    base = np.array([_vector(INSURERS, INSURER_BASE[r.country]) for r in regions])
    base[:, INSURERS.index("kaiser")] = [KAISER.get(r.code, 0.0) for r in regions]
    us = np.array([r.country == "US" for r in regions])[region]
    probs = base[region] + _matrix(KINDS, INSURERS, INSURER_BY_KIND)[people.kind] * us[:, None]
    self_pay = np.array([SELF_PAY_RATE[r.country] for r in regions])[region]
    psychologist = people.kind == KINDS.index("psychologist")
    rate = np.where(psychologist, self_pay[:, 0], self_pay[:, 1])
    billed = rng.random(len(region)) >= rate
    return _pick(rng, probs, billed.astype(int), billed * MAX_INSURERS).codes(INSURERS)


def generate_profiles(
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    jurisdictions: Sequence[str] | None = None,
    id_prefix: str = "t-",
) -> list[dict[str, Any]]:
    """Fictional but realistic therapist profiles; the same arguments give the same profiles."""
    _check_ids(count, id_prefix)
    regions = _select_regions(jurisdictions)
    rng = np.random.default_rng(seed)
    population = np.array([r.population_m for r in regions])
    region = _categorical(rng.random(count), _cdf(population))
    people = _draw_people(rng, regions, region)
    modalities, populations, concerns = _practice(rng, people)
    columns: dict[str, list[Any]] = {
        "id": [f"{id_prefix}{i:06d}" for i in range(1, count + 1)],
        **_names_and_licenses(rng, regions, region, people),
        "modalities": modalities.codes(MODALITY_CODES),
        "concerns": concerns.codes(CONCERN_CODES),
        "populations": _mask_codes(populations.mask, POPULATION_CODES),
        "languages": _languages(rng, regions, region, people),
        "identities": _mask_codes(people.identities, IDENTITY_CODES),
        "competencies": _mask_codes(_competencies(rng, people), IDENTITY_CODES),
        "faith": _faiths(rng, people),
        "formats": _formats(rng, count),
        **_places(rng, regions, region),
        "availability": _availability(rng, count),
        **_openings(rng, count),
        "fee": _fees(rng, regions, region, people),
        "insurance": _insurance(rng, regions, region, people),
        "style": _style(rng, modalities.mask),
    }
    ordered = [columns[name] for name in FIELDS]
    return [dict(zip(FIELDS, values, strict=True)) for values in zip(*ordered, strict=True)]


def write_ndjson(profiles: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write one compact JSON object per line (UTF-8, LF endings); how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for profile in profiles:
            out.write(json.dumps(dict(profile), ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Write a synthetic directory to an NDJSON file from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher.lab.synthetic",
        description="Write fictional therapist profiles as NDJSON (deterministic per seed).",
    )
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--jurisdiction",
        action="append",
        dest="jurisdictions",
        metavar="CODE",
        help=f"repeat to restrict the directory; one of {', '.join(REGIONS)}",
    )
    parser.add_argument("--id-prefix", default="t-")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        profiles = generate_profiles(
            args.count, seed=args.seed, jurisdictions=args.jurisdictions, id_prefix=args.id_prefix
        )
    except ValueError as err:
        parser.error(str(err))
    written = write_ndjson(profiles, args.out)
    print(f"wrote {written} profiles to {args.out}")
    return 0
