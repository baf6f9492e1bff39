"""Referrals and early-alliance ratings (scope ``outcomes``)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as FieldError

from matcher import outcomes
from matcher.api.auth import current_key
from matcher.api.blueprint import ApiBlueprint
from matcher.fields import Number, StrictInteger
from matcher.learning.instruments import INSTRUMENTS
from matcher.profiles import ID_ERROR, ID_PATTERN, Strict
from matcher.storage.tables import AllianceRating, Referral

blp = ApiBlueprint(
    "outcomes", __name__, url_prefix="/api/v1/referrals", description="Referrals and alliance"
)
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


def _referral_document(referral: Referral, ratings: list[AllianceRating]) -> dict[str, Any]:
    return {
        "id": referral.id,
        "match_id": referral.match_id,
        "therapist_id": referral.therapist_id,
        "model_version": referral.model_version,
        "created_at": referral.created_at,
        "rank": referral.rank,
        "score": referral.score,
        "features": referral.features,
        "ratings": [_rating_document(r) for r in ratings],
    }


def _rating_document(rating: AllianceRating) -> dict[str, Any]:
    return {
        name: getattr(rating, name)
        for name in (
            "id",
            "referral_id",
            "instrument",
            "session",
            "items",
            "total",
            "subscales",
            "score",
            "flags",
            "created_at",
        )
    }


def _refuse(refusal: outcomes.OutcomeRefused) -> None:
    abort(refusal.status, message=refusal.detail, errors=refusal.errors or None)


@blp.route("")
class Referrals(MethodView):
    """Referrals."""

    @blp.requires("outcomes")
    @blp.arguments(ReferralRequestSchema())
    @blp.response(201, ReferralSchema)
    @blp.problem(409, "The therapist has no open slot, or this pair was already referred")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Refer: the therapist must have been eligible in that match; takes one open slot."""
        db = current_app.extensions["matcher"].db
        try:
            referral = outcomes.refer(db, key_id=current_key().id, **body)
        except outcomes.OutcomeRefused as refusal:
            _refuse(refusal)
        return _referral_document(referral, [])


@blp.route("/<string:referral_id>")
class ReferralById(MethodView):
    """One referral."""

    @blp.requires("outcomes")
    @blp.response(200, ReferralSchema)
    def get(self, referral_id: str) -> dict[str, Any]:
        """A referral with its alliance ratings."""
        found = outcomes.get_referral(current_app.extensions["matcher"].db, referral_id=referral_id)
        if found is None:
            abort(404, message=f"No referral {referral_id!r}.")
        return _referral_document(*found)  # type: ignore[misc]


@blp.route("/<string:referral_id>/alliance")
class Alliance(MethodView):
    """Early-alliance ratings of a referral."""

    @blp.requires("outcomes")
    @blp.arguments(RatingRequestSchema())
    @blp.response(201, RatingSchema, description="Stored")
    @blp.alt_response(200, schema=RatingSchema, description="The same rating was already stored")
    @blp.problem(409, "A different rating is already stored for this session")
    def post(self, body: dict[str, Any], referral_id: str) -> tuple[dict[str, Any], int]:
        """Record a WAI-SR or SRS rating for session 1-3; the same again is answered 200."""
        db = current_app.extensions["matcher"].db
        try:
            rating, created = outcomes.rate(
                db,
                referral_id=referral_id,
                instrument=body["instrument"],
                session_number=body["session"],
                items=body["items"],
                key_id=current_key().id,
            )
        except outcomes.OutcomeRefused as refusal:
            _refuse(refusal)
        return _rating_document(rating), 201 if created else 200
