"""The match request and its answer: ranked, explained results."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from matcher.core.scoring import FEATURE_MEANINGS
from matcher.schemas.common import Strict
from matcher.schemas.compiled import CompiledLoad
from matcher.schemas.fields import StrictBoolean, StrictInteger, Text
from matcher.schemas.intake import IntakeSchema

MAX_LIMIT = 50


class MatchRequestSchema(CompiledLoad, Strict):
    """``POST /api/v1/match``: an intake and how to answer it."""

    intake = fields.Nested(IntakeSchema, required=True)
    limit = StrictInteger(load_default=10, validate=validate.Range(1, MAX_LIMIT))
    record = StrictBoolean(load_default=False)
    client_ref = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "An opaque caller reference; store nothing that names a person"},
    )


class ModelRefSchema(Schema):
    """The model version that scored a match."""

    version = fields.Integer(required=True)
    intercept = fields.Float(required=True)


class RelaxationSchema(Schema):
    """Dropping one requirement, and how many more therapists that would let through."""

    drop = fields.String(required=True)
    adds = fields.Integer(required=True)


class ResultSchema(Schema):
    """One ranked therapist."""

    rank = fields.Integer(required=True)
    therapist_id = fields.String(required=True)
    name = fields.String(required=True)
    score = fields.Float(
        required=True, metadata={"description": "Predicted early alliance on 0..1"}
    )
    contributions = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "weight x match value per feature; they sum to score - intercept"},
    )
    features = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={
            "description": "Match value in 0..1 per feature: "
            + "; ".join(f"{k}: {v}" for k, v in FEATURE_MEANINGS.items())
        },
    )
    reasons = fields.List(fields.String(), required=True)
    accepting_confirmed_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": (
                "When the therapist last confirmed accepting new clients (null: never, or not "
                "since declining a referral for lack of space); a stale one says so in reasons"
            )
        },
    )


class MatchResponseSchema(Schema):
    """Ranked, explained results with the filters' counts."""

    match_id = fields.String(required=True, allow_none=True)
    model = fields.Nested(ModelRefSchema, required=True)
    eligible = fields.Integer(required=True)
    excluded = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    relaxations = fields.List(fields.Nested(RelaxationSchema), required=True)
    results = fields.List(fields.Nested(ResultSchema), required=True)
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Plain notes on parts of the intake the match could not use as said, "
            "e.g. a must_have with no preference to enforce; empty when there are none"
        },
    )
