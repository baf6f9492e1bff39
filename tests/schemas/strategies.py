"""Values for the compiled-schema properties: valid profiles, their mutations, and odd values."""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

from hypothesis import strategies as st

from matcher.lab.synthetic import generate_profiles

# Strings near the rules' edges: codes in and out of each vocabulary, clocks, zones, ids, text
# with NUL and other control characters, and lookalikes (case, spaces, newlines, other digits).
EDGE_STRINGS = [
    "",
    " ",
    "x",
    "a" * 64,
    "a" * 65,
    "n" * 200,
    "n" * 201,
    "p" * 16,
    "p" * 17,
    "a\x00b",
    "\x00",
    "\x01",
    "tab\there",
    "line\nbreak",
    "\x7f",
    "\u2028",
    "t-000001",
    "import",
    ".",
    "..",
    "t 1",
    "t-1\n",
    "cbt",
    "CBT",
    "cbt\n",
    " cbt",
    "dbt",
    "emdr",
    "depression",
    "adults",
    "latinx",
    "in_person",
    "video",
    "phone",
    "woman",
    "christian",
    "en",
    "es",
    "EN",
    "zz",
    "US-CA",
    "US-NY",
    "CA-ON",
    "us-ca",
    "US-XX",
    "FR-75",
    "USD",
    "CAD",
    "usd",
    "ABC",
    "aetna",
    "Aetna",
    "blue_cross",
    "a" * 40,
    "a" * 41,
    "mon",
    "sun",
    "Mon",
    "monday",
    "00:00",
    "09:00",
    "17:00",
    "23:59",
    "24:00",
    "24:01",
    "9:00",
    "17:0",
    "17:60",
    "25:00",
    "\u0661\u0667:\u0660\u0660",  # 17:00 in Arabic-Indic digits: not [0-9]
    "17:00\n",
    "America/Los_Angeles",
    "America/New_York",
    "US/Pacific",
    "Europe/London",
    "UTC",
    "Factory",
    "localtime",
    "Mars/Olympus",
    "america/los_angeles",
]
EDGE_NUMBERS: list[Any] = [
    0,
    1,
    -1,
    2,
    3,
    -3,
    4,
    -4,
    20,
    21,
    64,
    65,
    90,
    -90,
    91,
    180,
    -181,
    10_000,
    10_001,
    100_000,
    100_001,
    2**53 + 1,
    2**63,
    10**400,
    0.0,
    -0.0,
    2.5,
    -2.5,
    3.0,
    89.999,
    90.0000001,
    -180.5,
    99_999.99,
    100_000.5,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGE_NUMBERS),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EDGE_STRINGS),
    st.text(st.characters(codec="utf-8"), max_size=12),
)

# What json.loads can give: the compiled check must decide all of these on its own.
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.sampled_from(EDGE_STRINGS), max_size=5),
        st.dictionaries(st.sampled_from(EDGE_STRINGS), inner, max_size=4),
    ),
    max_leaves=12,
)

# Python values a caller could hand over but JSON never gives: load may accept some (bytes,
# tuples), and then the compiled check must leave the decision to it.
python_values = st.one_of(
    st.binary(max_size=6),
    st.sampled_from([b"cbt", b"US-CA", b"17:00", b"\xff", ("cbt",), ("en", "es"), frozenset()]),
    st.sampled_from([1.5 + 0j, object()]),
)


@functools.cache
def base_profiles() -> tuple[dict[str, Any], ...]:
    """Valid synthetic profiles (every rule met), made once."""
    return tuple(generate_profiles(200, seed=14))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a document: object keys and list indices, outermost first."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def _at(record: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        record = record[part]
    return record


def _parent(record: Any, path: tuple[Any, ...]) -> Any:
    return _at(record, path[:-1])


def _objects(record: dict[str, Any]) -> list[dict[str, Any]]:
    nested = [_at(record, path) for path in paths(record)]
    return [record, *(item for item in nested if isinstance(item, dict))]


def _in_person_without_location(record: dict[str, Any], draw: st.DrawFn) -> None:
    if "in_person" not in record["formats"]:
        record["formats"].append("in_person")
    if draw(st.booleans()):
        record.pop("location", None)
    else:
        record["location"] = None


def _same_jurisdiction_twice(record: dict[str, Any], draw: st.DrawFn) -> None:
    first = record["licenses"][0]
    record["licenses"].append({**first, "credential": draw(st.sampled_from(["LCSW", "PhD"]))})


def _end_not_after_start(record: dict[str, Any], draw: st.DrawFn) -> None:
    window = {"day": "tue", "start": "17:00", "end": draw(st.sampled_from(["17:00", "09:30"]))}
    record["availability"] = [*record["availability"], window]


def _sliding_above_fee(record: dict[str, Any], draw: st.DrawFn) -> None:
    amount = draw(st.sampled_from([0, 80, 120.5]))
    record["fee"] = {"amount": amount, "currency": "USD", "sliding_scale_min": amount + 0.5}


def _listed_twice(record: dict[str, Any], draw: st.DrawFn) -> None:
    name = draw(st.sampled_from(["modalities", "languages", "formats", "insurance", "concerns"]))
    if record.get(name):
        record[name].append(record[name][0])


def _valid_variant(record: dict[str, Any], draw: st.DrawFn) -> None:
    """A change that keeps the profile valid: optional parts left out, null, or borrowed."""
    choice = draw(st.integers(0, 6))
    if choice == 0:
        for name in draw(st.sets(st.sampled_from(["gender", "concerns", "faith", "fee", "style"]))):
            record.pop(name, None)
    elif choice == 1:
        record.update(gender=None, faith=None, fee=None)
    elif choice == 2:
        other = draw(st.sampled_from(base_profiles()))
        name = draw(st.sampled_from(["fee", "style", "availability", "insurance", "languages"]))
        record[name] = copy.deepcopy(other[name])
    elif choice == 3:
        record["timezone"] = draw(st.sampled_from(["US/Pacific", "Canada/Eastern", "UTC"]))
    elif choice == 4:
        record["fee"] = {"amount": draw(st.sampled_from([0, 1.5, 99_999.99])), "currency": "CAD"}
    elif choice == 5:
        record["style"] = {"challenge": draw(st.integers(-3, 3))}
    elif record.get("location"):
        record["location"]["postal_code"] = None


RULES = [
    _in_person_without_location,
    _same_jurisdiction_twice,
    _end_not_after_start,
    _sliding_above_fee,
    _listed_twice,
    _valid_variant,
]


@st.composite
def profiles(draw: st.DrawFn, odd: st.SearchStrategy[Any] = json_values) -> dict[str, Any]:
    """A valid profile with a few changes: rules broken (or kept), then odd values anywhere."""
    record = copy.deepcopy(draw(st.sampled_from(base_profiles())))
    for rule in draw(st.lists(st.sampled_from(RULES), max_size=2)):
        rule(record, draw)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 4))
        if kind <= 2:  # a value anywhere set to an odd one
            path = draw(st.sampled_from(paths(record)))
            _parent(record, path)[path[-1]] = draw(odd)
        elif kind == 3:  # a key left out
            keyed = [p for p in paths(record) if isinstance(p[-1], str)]
            path = draw(st.sampled_from(keyed))
            del _parent(record, path)[path[-1]]
        else:  # an unknown key in some object
            target = draw(st.sampled_from(_objects(record)))
            target[draw(st.sampled_from(["extra", "Name", "id ", "website", "lat"]))] = 1
    return record


def same(left: Any, right: Any) -> bool:
    """Equal, and of the same types and key order all the way down (120 is not 120.0 here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)
