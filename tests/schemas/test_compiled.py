"""The schema compiler: each field type's check agrees with marshmallow; the unknown stops it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from matcher.schemas.compiled import NotCompilable, Undecided, compile_field, compile_schema
from matcher.schemas.fields import Number, StrictInteger, Text, distinct
from matcher.schemas.profile import TherapistProfileSchema
from tests.schemas.strategies import base_profiles, json_values, python_values, same

_SCHEMA = TherapistProfileSchema()


def _fields(schema: Schema, prefix: str = "") -> Iterator[tuple[str, fields.Field[Any]]]:
    """Every field a profile load runs, named by its path (``availability[].end``)."""
    for name, field in schema.load_fields.items():
        yield from _field_tree(field, f"{prefix}{name}")


def _field_tree(field: fields.Field[Any], path: str) -> Iterator[tuple[str, fields.Field[Any]]]:
    yield path, field
    if isinstance(field, fields.List):
        yield from _field_tree(field.inner, f"{path}[]")
    elif isinstance(field, fields.Nested):
        yield from _fields(field.schema, f"{path}.")


FIELDS = dict(_fields(_SCHEMA))


def _values_at(path: str) -> list[Any]:
    """The values the valid profiles hold at ``path`` (``[]`` stands for every item)."""
    found: list[Any] = list(base_profiles())
    for part in path.replace("[]", ".[]").split("."):
        if part == "[]":
            found = [item for value in found if isinstance(value, list) for item in value]
        else:
            found = [value[part] for value in found if isinstance(value, dict) and part in value]
    return found


def _load(field: fields.Field[Any], value: Any) -> tuple[bool, Any]:
    try:
        return True, field.deserialize(value)
    except ValidationError:
        return False, None


def _compiled(check: Any, value: Any) -> tuple[bool, Any]:
    try:
        return True, check(value)
    except Undecided:
        return False, None


@pytest.mark.parametrize("path", list(FIELDS))
@given(data=st.data())
def test_each_field_decides_json_values_as_marshmallow_does(path: str, data: st.DataObject) -> None:
    """For anything JSON can hold, a field's check accepts exactly what the field accepts."""
    field = FIELDS[path]
    seen = _values_at(path)
    value = data.draw(st.one_of(json_values, st.sampled_from(seen)) if seen else json_values)
    accepted, expected = _load(field, value)
    decided, got = _compiled(compile_field(field), value)
    assert decided == accepted, (path, value, expected)
    assert same(got, expected), (path, value, got, expected)


@pytest.mark.parametrize("path", list(FIELDS))
@given(value=python_values)
def test_each_field_leaves_other_python_values_to_marshmallow(path: str, value: Any) -> None:
    """Bytes, tuples and the like: the check either agrees or leaves the decision to load."""
    field = FIELDS[path]
    accepted, expected = _load(field, value)
    decided, got = _compiled(compile_field(field), value)
    assert not decided or (accepted and same(got, expected)), (path, value)


def test_the_profile_schema_walks_every_field_kind() -> None:
    """The walk above reaches the nested objects' fields, so the checks below them are tested."""
    assert {"licenses[].jurisdiction", "availability[].end", "fee.sliding_scale_min"} <= set(FIELDS)
    assert {"style.challenge", "location.postal_code", "insurance[]", "modalities"} <= set(FIELDS)


class _Website(TherapistProfileSchema):
    website = fields.Url(load_default=None, allow_none=True)


class _OneOfName(TherapistProfileSchema):
    name = Text(required=True, validate=validate.OneOf(["Ana"]))


class _Trimmed(TherapistProfileSchema):
    @pre_load
    def _trim(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return data


class _NameRule(TherapistProfileSchema):
    @validates("name")
    def _named(self, value: str, **_: Any) -> None:
        raise ValidationError("no")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE

    name = Text()


class _Renamed(Schema):
    full_name = Text(data_key="fullName")


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        (_Website, "_Website.website: Url is unknown"),
        (_OneOfName, "_OneOfName.name: validator <OneOf"),
        (_Trimmed, "pre_load hooks are not supported"),
        (_NameRule, "validates hooks are not supported"),
        (_Lenient, "unknown=RAISE"),
        (_Renamed, "_Renamed.full_name: data_key"),
    ],
)
def test_what_the_compiler_does_not_know_stops_it(schema: type[Schema], named: str) -> None:
    """A field type, validator, hook or option it cannot restate exactly is refused, by name."""
    with pytest.raises(NotCompilable, match=re.escape(named)):
        compile_schema(schema())


class _WithPracticeName(TherapistProfileSchema):
    practice = Text(load_default=None, allow_none=True, validate=validate.Length(max=5))

    @validates_schema
    def _practice_is_not_name(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("practice") == data["name"][:5]:
            raise ValidationError("Not the name.", "practice")


@pytest.mark.parametrize(
    ("practice", "accepted"),
    [(None, True), ("Calm", True), ("Too long", False), ("MISSING", True)],
)
def test_a_field_or_rule_added_to_the_schema_is_compiled_from_it(
    practice: str | None, accepted: bool
) -> None:
    """No second copy of the rules: a new field of a known type and a new rule just work."""
    schema = _WithPracticeName()
    check = compile_schema(schema)
    record = dict(base_profiles()[0])
    if practice != "MISSING":
        record["practice"] = practice
    decided, got = _compiled(check, record)
    assert decided == accepted
    if accepted:
        assert same(got, schema.load(record))
    else:
        with pytest.raises(ValidationError):
            schema.load(record)
    record["practice"] = record["name"][:5]
    with pytest.raises(Undecided):
        check(record)


class _Bounds(Schema):
    """Validator forms the profile does not use: exclusive and one-sided bounds, an exact size."""

    above = StrictInteger(validate=validate.Range(min=0, min_inclusive=False))
    below = StrictInteger(validate=validate.Range(max=10, max_inclusive=False))
    inside = Number(validate=validate.Range(-1.5, 1.5, min_inclusive=False, max_inclusive=True))
    pair = fields.List(Text(), validate=[validate.Length(equal=2), distinct])
    short = Text(validate=validate.Length(max=3))


_BOUNDS = _Bounds()
_BOUNDS_CHECK = compile_schema(_BOUNDS)


@given(
    record=st.fixed_dictionaries(
        {},
        optional={
            "above": st.sampled_from([-1, 0, 1, 2, True]),
            "below": st.sampled_from([9, 10, 11, -(10**30)]),
            "inside": st.sampled_from([-1.5, -1.4999, 0, 1.5, 1.5001, 2]),
            "pair": st.lists(st.sampled_from(["a", "b", 1]), max_size=3),
            "short": st.text(max_size=5),
        },
    )
)
def test_bounds_and_sizes_decide_as_marshmallow_does(record: dict[str, Any]) -> None:
    """Each validator form, compiled to a condition, lets through exactly what it lets through."""
    try:
        expected: Any = _BOUNDS.load(record)
    except ValidationError:
        expected = None
    decided, got = _compiled(_BOUNDS_CHECK, record)
    assert decided == (expected is not None)
    assert same(got, expected)
