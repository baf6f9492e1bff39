"""Referrals and early-alliance ratings."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as FieldError

from matcher.core.learning.instruments import INSTRUMENTS
from matcher.schemas.common import Strict
from matcher.schemas.fields import Number, StrictInteger
from matcher.schemas.profile import ID_ERROR, ID_PATTERN

INSTRUMENT_KEYS = INSTRUMENTS  # the scoring keys: item counts, ranges, integer items


class ReferralRequestSchema(Strict):
    """Refer the client of a recorded match to one of its eligible therapists."""

    match_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    therapist_id = fields.String(
        required=True, validate=validate.Regexp(ID_PATTERN, error=ID_ERROR)
    )


class RatingRequestSchema(Strict):
    """One session's alliance item scores (no wording: item numbers follow the instrument)."""

    instrument = fields.String(required=True, validate=validate.OneOf(list(INSTRUMENT_KEYS)))
    session = StrictInteger(required=True, validate=validate.Range(1, 3))
    items = fields.List(
        Number(),
        required=True,
        metadata={"description": "WAI-SR: 12 integers 1..5; SRS: 4 numbers 0..10"},
    )

    @validates_schema(skip_on_field_errors=False)
    def _items_fit_the_instrument(self, data: dict[str, Any], **_: Any) -> None:
        key = INSTRUMENT_KEYS.get(data.get("instrument", ""))
        items = data.get("items")
        if key is None or not isinstance(items, list):
            return
        if len(items) != key.n_items:
            raise FieldError(f"{key.code} takes {key.n_items} items.", "items")
        bad: dict[int, list[str]] = {}
        for index, value in enumerate(items):
            if not key.item_min <= value <= key.item_max:
                bad[index] = [f"Must be {key.item_min:g}..{key.item_max:g}."]
            elif key.integer_items and value != int(value):
                bad[index] = ["Must be a whole number."]
        if bad:
            raise FieldError({"items": bad})


class RatingSchema(Schema):
    """A stored rating with its totals."""

    id = fields.String(required=True)
    referral_id = fields.String(required=True)
    instrument = fields.String(required=True)
    session = fields.Integer(required=True)
    items = fields.List(fields.Float(), required=True)
    total = fields.Float(required=True)
    subscales = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    score = fields.Float(required=True, metadata={"description": "Alliance on 0..1"})
    flags = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True)
    created_at = fields.DateTime(required=True)


class ReferralSchema(Schema):
    """A referral, with the pair's features when the match was made."""

    id = fields.String(required=True)
    match_id = fields.String(required=True)
    therapist_id = fields.String(required=True)
    model_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    rank = fields.Integer(required=True, allow_none=True)
    score = fields.Float(required=True)
    features = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    ratings = fields.List(fields.Nested(RatingSchema), required=True)
