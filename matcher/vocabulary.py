"""The service's code lists: every code a profile or an intake may use, with its label."""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from types import MappingProxyType

import pycountry

MODALITIES: Mapping[str, str] = MappingProxyType(
    {
        "cbt": "Cognitive behavioural therapy (CBT)",
        "ipt": "Interpersonal therapy (IPT)",
        "psychodynamic": "Psychodynamic therapy",
        "humanistic": "Humanistic / person-centred therapy",
        "dbt": "Dialectical behaviour therapy (DBT)",
        "act": "Acceptance and commitment therapy (ACT)",
        "emdr": "Eye movement desensitisation and reprocessing (EMDR)",
        "mbct": "Mindfulness-based cognitive therapy (MBCT)",
        "cft": "Compassion-focused therapy (CFT)",
        "schema": "Schema therapy",
        "family_systems": "Family systems therapy",
        "solution_focused": "Solution-focused brief therapy",
        "narrative": "Narrative therapy",
        "behavioral_activation": "Behavioural activation",
        "motivational_interviewing": "Motivational interviewing",
        "integrative": "Integrative therapy",
    }
)

CONCERNS: Mapping[str, str] = MappingProxyType(
    {
        "depression": "Depression",
        "anxiety": "Anxiety",
        "trauma": "Trauma and PTSD",
        "grief": "Grief and loss",
        "relationships": "Relationships",
        "family": "Family conflict",
        "stress": "Stress",
        "self_esteem": "Self-esteem",
        "life_transitions": "Life transitions",
        "ocd": "Obsessive-compulsive disorder (OCD)",
        "eating": "Eating disorders",
        "substance_use": "Substance use",
        "bipolar": "Bipolar disorder",
        "adhd": "ADHD",
        "anger": "Anger",
        "sleep": "Sleep problems",
        "chronic_illness": "Chronic illness and pain",
        "perinatal": "Perinatal and postpartum",
        "identity": "Identity",
        "racial_trauma": "Racial trauma",
        "work": "Work and career",
    }
)

POPULATIONS: Mapping[str, str] = MappingProxyType(
    {
        "children": "Children",
        "adolescents": "Adolescents",
        "adults": "Adults",
        "older_adults": "Older adults",
        "couples": "Couples",
        "families": "Families",
    }
)

IDENTITIES: Mapping[str, str] = MappingProxyType(
    {
        "black": "Black",
        "latinx": "Latinx",
        "east_asian": "East Asian",
        "south_asian": "South Asian",
        "southeast_asian": "Southeast Asian",
        "mena": "Middle Eastern / North African",
        "indigenous": "Indigenous",
        "pacific_islander": "Pacific Islander",
        "multiracial": "Multiracial",
        "immigrant_refugee": "Immigrant or refugee",
        "lgbtq": "LGBTQ+",
        "transgender_nonbinary": "Transgender or nonbinary",
        "deaf_hoh": "Deaf or hard of hearing",
        "disability": "Disability",
        "veteran": "Veteran",
    }
)

FAITHS: Mapping[str, str] = MappingProxyType(
    {
        "christian": "Christian",
        "muslim": "Muslim",
        "jewish": "Jewish",
        "hindu": "Hindu",
        "buddhist": "Buddhist",
        "sikh": "Sikh",
        "secular": "Secular",
    }
)

FORMATS: Mapping[str, str] = MappingProxyType(
    {"in_person": "In person", "video": "Video", "phone": "Phone"}
)

GENDERS: Mapping[str, str] = MappingProxyType(
    {"woman": "Woman", "man": "Man", "nonbinary": "Nonbinary"}
)

# Cooper & Norcross (2016) C-NIP preference dimensions, each scored -3..3.
STYLE_DIMENSIONS: Mapping[str, str] = MappingProxyType(
    {
        "directiveness": "Client-led (-3) .. therapist-led (3)",
        "emotional_intensity": "Emotionally reserved (-3) .. emotionally intense (3)",
        "past_orientation": "Focused on the present (-3) .. on the past (3)",
        "challenge": "Warm support (-3) .. focused challenge (3)",
    }
)
STYLE_MIN, STYLE_MAX = -3, 3

# Plans the demo directory uses, and the largest US and Canadian payers. Profiles and intakes
# may use other lower_snake_case plan codes too: a directory may have local plans.
INSURANCE: Mapping[str, str] = MappingProxyType(
    {
        # United States
        "aetna": "Aetna",
        "ambetter": "Ambetter (Centene)",
        "anthem": "Anthem (Elevance Health)",
        "bcbs": "Blue Cross Blue Shield (US)",
        "carelon": "Carelon Behavioral Health (formerly Beacon)",
        "cigna": "Cigna / Evernorth",
        "emblemhealth": "EmblemHealth",
        "highmark": "Highmark",
        "humana": "Humana",
        "kaiser": "Kaiser Permanente",
        "magellan": "Magellan Health",
        "medicaid": "Medicaid",
        "medicare": "Medicare",
        "molina": "Molina Healthcare",
        "optum": "Optum (UnitedHealth Group)",
        "oscar": "Oscar Health",
        "tricare": "TRICARE",
        "united": "UnitedHealthcare",
        # Canada
        "beneva": "Beneva",
        "blue_cross": "Blue Cross (Canada)",
        "canada_life": "Canada Life",
        "desjardins": "Desjardins Insurance",
        "equitable": "Equitable Life of Canada",
        "green_shield": "Green Shield Canada",
        "ia_financial": "iA Financial Group",
        "ifhp": "Interim Federal Health Program (Canada)",
        "manulife": "Manulife",
        "nihb": "Non-Insured Health Benefits, First Nations and Inuit (Canada)",
        "sun_life": "Sun Life",
    }
)

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

AGE_GROUPS: tuple[str, ...] = tuple(POPULATIONS)

# Countries whose first-level subdivisions (states, provinces) are licensing jurisdictions.
DEFAULT_COUNTRIES = ("US", "CA")


@functools.cache
def languages() -> Mapping[str, str]:
    """ISO 639-1 language codes with their English names, from pycountry."""
    pairs = sorted(
        (lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")
    )
    return MappingProxyType(dict(pairs))


_served: list[tuple[str, ...]] = [DEFAULT_COUNTRIES]


def serve_countries(countries: tuple[str, ...]) -> None:
    """Serve these countries' jurisdictions (``Settings.countries``, set by the app factory)."""
    _served[0] = tuple(countries) or DEFAULT_COUNTRIES


def configured_countries() -> tuple[str, ...]:
    """Countries whose jurisdictions are served (default US, CA)."""
    return _served[0]


@functools.cache
def _jurisdictions_for(countries: tuple[str, ...]) -> Mapping[str, str]:
    pairs: list[tuple[str, str]] = []
    for country in countries:
        for sub in pycountry.subdivisions.get(country_code=country) or ():  # type: ignore[no-untyped-call]
            if sub.parent_code is None:
                pairs.append((sub.code, sub.name))
    return MappingProxyType(dict(sorted(pairs)))


def jurisdictions() -> Mapping[str, str]:
    """First-level ISO 3166-2 subdivisions of the served countries, from pycountry."""
    return _jurisdictions_for(configured_countries())


# Names in time zone databases that are not places: "Factory" is tzdata's zone for "not set",
# "localtime" and "posixrules" are files some hosts keep beside the zones.
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@functools.cache
def _tz_database() -> tuple[frozenset[str], Mapping[str, str]]:
    """The IANA zones and their aliases (links), from the ``tzdata`` package's ``tzdata.zi``."""
    source = importlib.resources.files("tzdata.zoneinfo") / "tzdata.zi"
    zones: set[str] = set()
    links: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        kind, *names = line.split() or [""]
        if kind == "Z":
            zones.add(names[0])
        elif kind == "L":  # "L <zone> <alias>"
            links[names[1]] = names[0]
    zones -= NOT_ZONES
    aliases = {alias: zone for alias, zone in links.items() if zone in zones}
    return frozenset(zones), MappingProxyType(aliases)


def timezones() -> frozenset[str]:
    """IANA time zone names (tzdata), without aliases."""
    return _tz_database()[0]


def zone_named(name: str) -> str | None:
    """The IANA zone ``name`` names (itself, or the zone an alias stands for), or None."""
    zones, aliases = _tz_database()
    return name if name in zones else aliases.get(name)


@functools.cache
def currencies() -> frozenset[str]:
    """ISO 4217 currency codes, from pycountry."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def catalogue() -> dict[str, list[dict[str, str]]]:
    """Every code list with labels, as served by ``GET /api/v1/vocabulary``."""

    def listed(mapping: Mapping[str, str]) -> list[dict[str, str]]:
        return [{"code": code, "label": label} for code, label in mapping.items()]

    return {
        "modalities": listed(MODALITIES),
        "concerns": listed(CONCERNS),
        "populations": listed(POPULATIONS),
        "identities": listed(IDENTITIES),
        "faiths": listed(FAITHS),
        "formats": listed(FORMATS),
        "genders": listed(GENDERS),
        "languages": listed(languages()),
        "jurisdictions": listed(jurisdictions()),
        "style_dimensions": listed(STYLE_DIMENSIONS),
        "days": [{"code": d, "label": d.capitalize()} for d in DAYS],
        "insurance": listed(INSURANCE),
        "timezones": [{"code": z, "label": z.replace("_", " ")} for z in sorted(timezones())],
    }
