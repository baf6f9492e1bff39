"""The match request loads through its compiled check: the same answer as marshmallow's load."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from matcher.schemas.match import MatchRequestSchema
from tests.core.scoring.test_properties import intake
from tests.schemas.strategies import json_values, same

SCHEMA = MatchRequestSchema()


def _marshmallow(body: Any) -> tuple[bool, Any]:
    try:
        return True, Schema.load(SCHEMA, body)
    except ValidationError as error:
        return False, error.messages


def _served(body: Any) -> tuple[bool, Any]:
    try:
        return True, SCHEMA.load(body)
    except ValidationError as error:
        return False, error.messages


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Match requests, valid or with one value anywhere replaced by any JSON value."""
    body: dict[str, Any] = {"intake": draw(intake([]))}
    for name, strategy in (
        ("limit", st.integers(0, 60)),
        ("record", st.booleans()),
        ("client_ref", st.text(max_size=3)),
    ):
        if draw(st.booleans()):
            body[name] = draw(strategy)
    if draw(st.booleans()):
        target = body["intake"] if draw(st.booleans()) else body
        key = draw(st.sampled_from([*target, "unknown_field"]))
        target[key] = draw(json_values)
    return body


@given(bodies())
def test_the_served_load_answers_as_marshmallow_does(body: dict[str, Any]) -> None:
    accepted, expected = _marshmallow(body)
    ok, got = _served(body)
    assert ok == accepted
    assert same(got, expected), (body, got, expected)


def test_the_compiled_check_answers_a_plain_request_itself() -> None:
    body = {"intake": {"jurisdiction": "US-CA", "languages": ["es"], "formats": ["video"]}}
    # Not left to marshmallow: the check itself returns the loaded request.
    assert SCHEMA._accept(body) == Schema.load(SCHEMA, body)
    assert SCHEMA.load(body)["limit"] == 10
