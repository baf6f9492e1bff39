"""The synthetic demo directory: deterministic, complete, in the vocabulary, and realistic."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from matcher import vocabulary as vocab
from matcher.lab.synthetic import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    FIELDS,
    generate_profiles,
    main,
    write_ndjson,
)
from matcher.schemas.profile import validate_profile

PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"
DEMO_FILE = PROFILES_DIR / "demo-directory.ndjson"
ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
CODE = re.compile(r"[a-z][a-z0-9_]*")
US_ZIP = re.compile(r"\d{5}")
CA_POSTAL = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d")
NON_EMPTY_LISTS = ("licenses", "modalities", "concerns", "populations", "languages", "formats")
CODE_LISTS = {
    "modalities": vocab.MODALITIES,
    "concerns": vocab.CONCERNS,
    "populations": vocab.POPULATIONS,
    "identities": vocab.IDENTITIES,
    "competencies": vocab.IDENTITIES,
    "formats": vocab.FORMATS,
}


@pytest.fixture(scope="module")
def directory() -> list[dict[str, Any]]:
    """The demo directory as the default seed generates it."""
    return generate_profiles(DEFAULT_COUNT)


def home(profile: dict[str, Any]) -> str:
    """The jurisdiction of the therapist's primary licence."""
    jurisdiction: str = profile["licenses"][0]["jurisdiction"]
    return jurisdiction


def share(profiles: list[dict[str, Any]], condition: Any) -> float:
    """The fraction of profiles meeting a condition."""
    return sum(1 for p in profiles if condition(p)) / len(profiles)


def test_same_seed_gives_the_same_profiles() -> None:
    assert generate_profiles(300, seed=7) == generate_profiles(300, seed=7)


def test_different_seed_gives_different_profiles() -> None:
    assert generate_profiles(300, seed=7) != generate_profiles(300, seed=8)


def test_ids_are_unique_and_valid(directory: list[dict[str, Any]]) -> None:
    ids = [p["id"] for p in directory]
    assert len(set(ids)) == len(ids) == DEFAULT_COUNT
    assert all(ID.fullmatch(i) for i in ids)


def test_every_contract_field_is_filled(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        assert tuple(p) == FIELDS
        assert p["name"] and p["gender"] in vocab.GENDERS
        assert all(p[field] for field in NON_EMPTY_LISTS), p["id"]
        assert all(isinstance(p[field], list) for field in ("identities", "competencies"))
        assert p["faith"] is None or p["faith"] in vocab.FAITHS
        assert set(p["location"]) == {"lat", "lon", "postal_code"}
        assert set(p["fee"]) == {"amount", "currency", "sliding_scale_min"}
        assert isinstance(p["insurance"], list)
        assert isinstance(p["accepting_new_clients"], bool)
        assert 2 <= len(p["availability"]) <= 6


def test_every_code_is_in_the_vocabulary(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        for field, codes in CODE_LISTS.items():
            assert set(p[field]) <= set(codes), (p["id"], field)
            assert len(set(p[field])) == len(p[field]), (p["id"], field)
        assert set(p["languages"]) <= set(vocab.languages())
        assert {lic["jurisdiction"] for lic in p["licenses"]} <= set(vocab.jurisdictions())
        assert p["timezone"] in vocab.timezones()
        assert p["fee"]["currency"] in vocab.currencies()
        assert all(CODE.fullmatch(plan) for plan in p["insurance"])


def test_style_has_four_integer_dimensions_in_range(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        assert set(p["style"]) == set(vocab.STYLE_DIMENSIONS)
        for score in p["style"].values():
            assert type(score) is int and vocab.STYLE_MIN <= score <= vocab.STYLE_MAX


def test_availability_is_weekly_local_windows(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        for window in p["availability"]:
            assert window["day"] in vocab.DAYS
            assert CLOCK.fullmatch(window["start"]) and CLOCK.fullmatch(window["end"])
            assert window["start"] < window["end"]
            assert window["start"][3:] in ("00", "30") and window["end"][3:] in ("00", "30")


def test_location_and_time_zone_fit_the_country(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        location, country = p["location"], home(p)[:2]
        assert 24 < location["lat"] < 50 and -125 < location["lon"] < -70
        postal = US_ZIP if country == "US" else CA_POSTAL
        assert postal.fullmatch(location["postal_code"]), location["postal_code"]
        assert p["timezone"].startswith("America/")
        assert p["fee"]["currency"] == {"US": "USD", "CA": "CAD"}[country]


def test_fees_and_sliding_scales_are_plausible(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        fee = p["fee"]
        assert 100 <= fee["amount"] <= 260
        assert fee["sliding_scale_min"] is None or 0 < fee["sliding_scale_min"] < fee["amount"]
    assert 0.25 < share(directory, lambda p: p["fee"]["sliding_scale_min"] is not None) < 0.45


def test_capacity_is_zero_exactly_when_not_accepting(directory: list[dict[str, Any]]) -> None:
    for p in directory:
        if p["accepting_new_clients"]:
            assert 1 <= p["capacity"] <= 6
        else:
            assert p["capacity"] == 0
    assert 0.65 < share(directory, lambda p: p["accepting_new_clients"]) < 0.75


def test_covers_us_states_and_canadian_provinces(directory: list[dict[str, Any]]) -> None:
    places = {home(p) for p in directory}
    assert len(places) >= 5
    assert {code[:2] for code in places} == {"US", "CA"}


def test_english_is_first_outside_quebec(directory: list[dict[str, Any]]) -> None:
    outside = [p for p in directory if home(p) != "CA-QC"]
    quebec = [p for p in directory if home(p) == "CA-QC"]
    assert all(p["languages"][0] == "en" for p in outside)
    assert share(quebec, lambda p: p["languages"][0] == "fr") > 0.7


def test_shares_look_like_a_real_directory(directory: list[dict[str, Any]]) -> None:
    us = [p for p in directory if home(p).startswith("US-")]
    assert 0.65 < share(directory, lambda p: p["gender"] == "woman") < 0.75
    assert 0.55 < share(directory, lambda p: "cbt" in p["modalities"]) < 0.72
    assert 0.80 < share(directory, lambda p: "video" in p["formats"]) < 0.90
    assert 0.08 < share(us, lambda p: "es" in p["languages"]) < 0.17
    assert 0.30 < share(directory, lambda p: "lgbtq" in p["competencies"]) < 0.45


def test_spanish_goes_with_latinx_identity(directory: list[dict[str, Any]]) -> None:
    latinx = [p for p in directory if "latinx" in p["identities"]]
    others = [p for p in directory if "latinx" not in p["identities"]]
    assert share(latinx, lambda p: "es" in p["languages"]) > 3 * share(
        others, lambda p: "es" in p["languages"]
    )


def test_jurisdictions_can_be_restricted() -> None:
    profiles = generate_profiles(50, jurisdictions=["CA-QC", "US-TX"])
    assert {home(p) for p in profiles} == {"CA-QC", "US-TX"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jurisdictions": ["US-ZZ"]}, "jurisdictions"),
        ({"jurisdictions": []}, "jurisdictions"),
        ({"id_prefix": "bad prefix/"}, "id_prefix"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_profiles(5, **kwargs)


def test_demo_directory_passes_profile_validation() -> None:
    for line in DEMO_FILE.read_text(encoding="utf-8").splitlines():
        _, errors = validate_profile(json.loads(line))
        assert not errors, errors


def test_committed_demo_directory_matches_a_fresh_generation(
    directory: list[dict[str, Any]], tmp_path: Path
) -> None:
    fresh = tmp_path / "demo.ndjson"
    assert write_ndjson(directory, fresh) == DEFAULT_COUNT
    assert fresh.read_bytes() == DEMO_FILE.read_bytes()


def test_command_line_writes_ndjson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nested" / "five.ndjson"
    assert main(["--count", "5", "--seed", str(DEFAULT_SEED), "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    assert "wrote 5 profiles" in capsys.readouterr().out
