"""Referrals and early-alliance ratings."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from matcher.core.learning.instruments import INSTRUMENTS
from matcher.schemas.common import OneOf, Strict
from matcher.schemas.fields import Number, StrictInteger, Text
from matcher.schemas.profile import profile_id

# Why a therapist declined a referral; "no_space" counts against availability freshness.
DECLINE_REASONS = ("no_space", "not_a_fit", "other")


class ReferralRequestSchema(Strict):
    """Refer the client of a recorded match to one of its eligible therapists."""

    match_id = Text(required=True, validate=validate.Length(min=1, max=32))
    therapist_id = profile_id(required=True)


def _items(code: str) -> fields.List[Any]:
    """The item scores of one instrument: how many, their range, whole numbers or not."""
    key = INSTRUMENTS[code]
    scale = validate.Range(key.item_min, key.item_max)
    item: fields.Field[Any] = (
        StrictInteger(validate=scale) if key.integer_items else Number(validate=scale)
    )
    kind = "integers" if key.integer_items else "numbers"
    return fields.List(
        item,
        required=True,
        validate=validate.Length(equal=key.n_items),
        metadata={
            "description": f"{key.n_items} {kind} {key.item_min:g}..{key.item_max:g}, "
            "in the instrument's item order"
        },
    )


def _session() -> StrictInteger:
    return StrictInteger(required=True, validate=validate.Range(1, 3))


class WaiSrRatingSchema(Strict):
    """A WAI-SR rating: 12 whole numbers 1..5."""

    instrument = fields.String(required=True, validate=validate.OneOf(["wai-sr"]))
    session = _session()
    items = _items("wai-sr")


class SrsRatingSchema(Strict):
    """An SRS rating: 4 numbers 0..10 (visual-analogue marks, decimals allowed)."""

    instrument = fields.String(required=True, validate=validate.OneOf(["srs"]))
    session = _session()
    items = _items("srs")


class RatingRequestSchema(OneOf):
    """One session's alliance item scores (no wording: item numbers follow the instrument)."""

    discriminator = "instrument"
    shapes = MappingProxyType({"wai-sr": WaiSrRatingSchema, "srs": SrsRatingSchema})


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
    declined_at = fields.DateTime(required=True, allow_none=True)
    decline_reason = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(DECLINE_REASONS)
    )


class DeclineRequestSchema(Strict):
    """The therapist declined the client, and why."""

    reason = fields.String(
        required=True,
        validate=validate.OneOf(DECLINE_REASONS),
        metadata={
            "description": (
                "no_space: withdraws the therapist's accepting confirmation (stale until "
                "confirmed again) and keeps the slot taken; otherwise the slot comes back"
            )
        },
    )


class HistoryRecordSchema(Strict):
    """One past referral to import, with the early-alliance ratings it had."""

    client_ref = Text(required=True, validate=validate.Length(min=1, max=128))
    intake = fields.Dict(required=True, metadata={"description": "An intake, as for a match"})
    therapist_id = profile_id(required=True)
    referred_at = fields.AwareDateTime(required=True)
    ratings = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=6))


class HistoryResultSchema(Schema):
    """What a history import stored."""

    referrals = fields.Integer(required=True)
    ratings = fields.Integer(required=True)
