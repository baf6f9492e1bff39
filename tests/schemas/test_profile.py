"""validate_profile: the compiled path and the schema's load agree on every profile."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given
from marshmallow import ValidationError

from matcher import vocabulary as vocab
from matcher.schemas import profile as profile_schema
from matcher.schemas.compiled import Undecided, compile_schema
from matcher.schemas.profile import PROFILE_FIELDS, TherapistProfileSchema, validate_profile
from tests.schemas.strategies import base_profiles, profiles, python_values, same

# A schema of its own, so the reference is marshmallow alone, untouched by the compiled path.
_REFERENCE = TherapistProfileSchema()
_COMPILED = compile_schema(TherapistProfileSchema())


def _reference(record: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """validate_profile as it was: marshmallow's load for every record."""
    if not isinstance(record, dict):
        return None, {"_schema": ["Each record must be a JSON object."]}
    try:
        return _REFERENCE.load(record), {}
    except ValidationError as err:
        return None, err.normalized_messages()  # type: ignore[no-untyped-call]


def _compiled(record: Any) -> dict[str, Any] | None:
    try:
        return _COMPILED(record)
    except Undecided:
        return None


@given(record=profiles())
def test_compiled_path_accepts_exactly_what_load_accepts(record: dict[str, Any]) -> None:
    """JSON profiles, valid or mutated: the compiled path alone decides, with load's output."""
    expected, messages = _reference(record)
    got = _compiled(record)
    event("accepted" if expected is not None else "refused")
    assert (got is None) == (expected is None), (record, messages)
    assert same(got, expected)


@given(record=profiles())
def test_validate_profile_answers_as_load_does(record: dict[str, Any]) -> None:
    """The same profile or the same refusal, message for message."""
    got = validate_profile(record)
    expected = _reference(record)
    assert same(got[0], expected[0])
    assert got[1] == expected[1]


@given(record=profiles(odd=python_values))
def test_python_values_json_never_holds_are_left_to_load(record: dict[str, Any]) -> None:
    """Bytes and tuples (which load may accept): the answer is still load's."""
    got = validate_profile(record)
    expected = _reference(record)
    assert same(got[0], expected[0])
    assert got[1] == expected[1]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        for name in names:
            del record[name]

    return change


def _in_person_without_location(record: dict[str, Any]) -> None:
    record["formats"] = ["in_person"]
    record["location"] = None


def _licence_twice(record: dict[str, Any]) -> None:
    record["licenses"] = [record["licenses"][0], {**record["licenses"][0], "credential": "PhD"}]


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "name a number": _set("name", 12),
    "name with NUL": _set("name", "Ana\x00Ruiz"),
    "credential with NUL": _set("licenses.0.credential", "\x00"),
    "postal code with NUL": _set("location.postal_code", "9\x0012"),
    "name with a lone surrogate": _set("name", "Ana \ud800Ruiz"),
    "credential with a lone surrogate": _set("licenses.0.credential", "\udfff"),
    "postal code too long": _set("location.postal_code", "1" * 17),
    "id with a newline": _set("id", "t-1\n"),
    "id 'import'": _set("id", "import"),
    "id too long": _set("id", "t" * 65),
    "unknown modality": _set("modalities", ["cbt", "astrology"]),
    "modality listed twice": _set("modalities", ["cbt", "cbt"]),
    "no modality": _set("modalities", []),
    "modalities a string": _set("modalities", "cbt"),
    "unknown language": _set("languages", ["xx"]),
    "unknown jurisdiction": _set("licenses.0.jurisdiction", "US-XX"),
    "no licence": _set("licenses", []),
    "two licences in one jurisdiction": _licence_twice,
    "unknown gender": _set("gender", "other"),
    "unknown faith": _set("faith", "jedi"),
    "unknown currency": _set("fee.currency", "ABC"),
    "unknown time zone": _set("timezone", "Mars/Olympus"),
    "Factory time zone": _set("timezone", "Factory"),
    "insurance not snake_case": _set("insurance", ["Aetna"]),
    "insurance listed twice": _set("insurance", ["aetna", "aetna"]),
    "capacity 2.5": _set("capacity", 2.5),
    "capacity true": _set("capacity", True),
    "capacity '3'": _set("capacity", "3"),
    "capacity negative": _set("capacity", -1),
    "capacity too large": _set("capacity", 10_001),
    "accepting 1": _set("accepting_new_clients", 1),
    "accepting 'true'": _set("accepting_new_clients", "true"),
    "fee a boolean": _set("fee.amount", True),
    "fee a string": _set("fee.amount", "120"),
    "fee negative": _set("fee.amount", -1),
    "fee infinite": _set("fee.amount", float("inf")),
    "fee NaN": _set("fee.amount", float("nan")),
    "fee beyond float": _set("fee.amount", 10**400),
    "sliding scale above fee": _set(
        "fee", {"amount": 50, "currency": "USD", "sliding_scale_min": 60}
    ),
    "latitude out of range": _set("location.lat", 90.5),
    "latitude a boolean": _set("location.lat", False),
    "in person without location": _in_person_without_location,
    "window ending before it starts": _set(
        "availability.0", {"day": "mon", "start": "18:00", "end": "09:00"}
    ),
    "window ending as it starts": _set(
        "availability.0", {"day": "mon", "start": "18:00", "end": "18:00"}
    ),
    "window starting at 24:00": _set(
        "availability.0", {"day": "mon", "start": "24:00", "end": "24:00"}
    ),
    "window at 9:00": _set("availability.0", {"day": "mon", "start": "9:00", "end": "10:00"}),
    "window in other digits": _set("availability.0.start", "\u0660\u0669:\u0660\u0660"),
    "unknown day": _set("availability.0.day", "funday"),
    "style 4": _set("style.challenge", 4),
    "style 1.0": _set("style.challenge", 1.0),
    "style unknown dimension": _set("style.humour", 1),
    "unknown key": _set("website", "https://example.org"),
    "unknown key in a licence": _set("licenses.0.state", "CA"),
    "null name": _set("name", None),
    "no id": _drop("id"),
    "no timezone": _drop("timezone"),
    "no capacity": _drop("capacity"),
}


@pytest.fixture
def complete() -> dict[str, Any]:
    """A valid profile with every optional part present (location, fee, windows, style)."""
    for record in base_profiles():
        if record["location"] and record["fee"] and len(record["availability"]) >= 1:
            return copy.deepcopy(record)
    raise AssertionError("no complete synthetic profile")


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_each_broken_rule_is_refused_in_the_schemas_words(
    complete: dict[str, Any], mutation: str
) -> None:
    """The compiled path does not accept it; validate_profile gives load's messages."""
    MUTATIONS[mutation](complete)
    with pytest.raises(ValidationError) as refused:
        _REFERENCE.load(complete)
    with pytest.raises(Undecided):
        _COMPILED(complete)
    assert validate_profile(complete) == (None, refused.value.normalized_messages())  # type: ignore[no-untyped-call]


KEPT: dict[str, Callable[[dict[str, Any]], None]] = {
    "control characters in the name (only NUL is refused)": _set("name", "Ana\tRuiz\x01\n"),
    "a name beyond the BMP (a surrogate pair in JSON)": _set("name", "Ana \U0001f33f Ruiz"),
    "a zone alias, stored as its zone": _set("timezone", "US/Pacific"),
    "an integer fee, stored as a float": _set("fee", {"amount": 120, "currency": "CAD"}),
    "no postal code": _set("location.postal_code", None),
    "a window ending at midnight": _set(
        "availability.0", {"day": "sun", "start": "23:59", "end": "24:00"}
    ),
    "one style dimension": _set("style", {"challenge": -3}),
    "no gender, faith or fee": lambda record: record.update(gender=None, faith=None, fee=None),
    "optional parts left out": _drop("concerns", "fee", "style"),
    "an id with dots, underscores and dashes": _set("id", "a.b_c-1"),
}


@pytest.mark.parametrize("variant", list(KEPT))
def test_each_kept_variant_is_normalised_as_load_does(
    complete: dict[str, Any], variant: str
) -> None:
    """Valid but unusual: the compiled path accepts it alone, with load's normalised output."""
    KEPT[variant](complete)
    got = _compiled(complete)
    assert got is not None
    assert same(got, _REFERENCE.load(complete))


def test_valid_profiles_never_reach_marshmallow() -> None:
    """Every valid synthetic profile is validated by the compiled path alone (the fast path)."""
    with mock.patch.object(profile_schema._PROFILE_SCHEMA, "load", side_effect=AssertionError):
        for record in base_profiles():
            profile, errors = validate_profile(record)
            assert errors == {}
            assert same(profile, _REFERENCE.load(record))


def test_compiled_path_covers_every_field_of_the_schema() -> None:
    """A field the compiled path did not know would be missing from what it returns."""
    got = _compiled(base_profiles()[0])
    assert got is not None
    assert tuple(got) == PROFILE_FIELDS == tuple(_REFERENCE.load_fields)


def test_defaults_are_fresh_objects_as_loads_are() -> None:
    """Left-out lists and the style object come back new each time, never shared."""
    record = {k: v for k, v in base_profiles()[0].items() if k not in ("concerns", "style")}
    first, second = _compiled(record), _compiled(record)
    assert first is not None and second is not None
    assert first["concerns"] == [] and first["style"] == {}
    assert first["concerns"] is not second["concerns"] and first["style"] is not second["style"]


def test_records_that_are_not_objects() -> None:
    """A list or a string is refused before any field is looked at."""
    assert validate_profile([]) == (None, {"_schema": ["Each record must be a JSON object."]})
    assert validate_profile("x") == _reference("x")


def test_clocks_order_as_text_as_they_do_as_times() -> None:
    """Why a window's rule compares start and end as text: every clock a window takes, in order."""
    window = TherapistProfileSchema().fields["availability"].inner.schema  # type: ignore[attr-defined]
    start, end = window.fields["start"].pattern, window.fields["end"].pattern
    candidates = [f"{a}{b}:{c}{d}" for a, b, c, d in itertools.product("0123456789", repeat=4)]
    in_time_order = [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60 + 1)]
    assert [c for c in candidates if end.fullmatch(c)] == in_time_order == sorted(in_time_order)
    assert [c for c in candidates if start.fullmatch(c)] == in_time_order[:-1]


@pytest.fixture
def us_only() -> Iterator[None]:
    """The service configured for the United States alone (as MATCHER_COUNTRIES=US does)."""
    served = vocab.configured_countries()
    vocab.serve_countries(("US",))
    yield
    vocab.serve_countries(served)


@pytest.mark.usefixtures("us_only")
def test_jurisdictions_follow_the_countries_served_after_compilation() -> None:
    """The compiled path reads the served jurisdictions at each call, as the schema does."""
    record = copy.deepcopy(base_profiles()[0])
    record["licenses"] = [{"jurisdiction": "CA-ON", "credential": "RP"}]
    assert _compiled(record) is None
    assert validate_profile(record) == _reference(record)
    unknown = "Unknown jurisdiction code 'CA-ON'; see GET /api/v1/vocabulary."
    assert validate_profile(record)[1] == {"licenses": {0: {"jurisdiction": [unknown]}}}
