"""Waitlist assignment: the waiting clients in, the best assignment and greedy's total out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from matcher.schemas.common import Strict
from matcher.schemas.fields import StrictBoolean, Text
from matcher.schemas.intake import IntakeSchema

MAX_CLIENTS = 2000


class WaitingClientSchema(Strict):
    """One waiting client: an opaque reference and the intake."""

    client_ref = Text(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "An opaque caller reference; store nothing that names a person"},
    )
    intake = fields.Nested(IntakeSchema, required=True)


class WaitlistRequestSchema(Strict):
    """``POST /api/v1/waitlist/assign``: up to 2,000 clients, each listed once."""

    clients = fields.List(
        fields.Nested(WaitingClientSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_CLIENTS),
        metadata={
            "description": "The waitlist in order (greedy serves it first come, first served); "
            "each client_ref at most once"
        },
    )
    explain = StrictBoolean(
        load_default=False,
        metadata={"description": "Add each assignment's reasons in words (takes longer)"},
    )
    commit = StrictBoolean(
        load_default=False,
        metadata={"description": "Record each placed client's match and referral (scope outcomes)"},
    )

    @validates_schema
    def _each_client_once(self, data: dict[str, Any], **_: Any) -> None:
        seen: dict[str, int] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for i, client in enumerate(data.get("clients") or []):
            ref = client["client_ref"]
            if ref in seen:
                errors[i] = {"client_ref": [f"Also at clients[{seen[ref]}]; list each once."]}
            seen.setdefault(ref, i)
        if errors:
            raise ValidationError({"clients": errors})


class AssignmentSchema(Schema):
    """A client placed with a therapist, the score explained."""

    client_ref = fields.String(required=True)
    therapist_id = fields.String(required=True)
    name = fields.String(required=True)
    score = fields.Float(required=True, metadata={"description": "Predicted early alliance, 0..1"})
    contributions = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "weight x match value per feature; they sum to score - intercept"},
    )
    reasons = fields.List(
        fields.String(), metadata={"description": "Why, in words; only with explain: true"}
    )
    greedy_therapist_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Who first come, first served would have given this client"},
    )


class UnassignedSchema(Schema):
    """A client left waiting, and why."""

    client_ref = fields.String(required=True)
    reason = fields.String(required=True)
    greedy_therapist_id = fields.String(required=True, allow_none=True)


class WaitlistModelSchema(Schema):
    """The model version that scored the waitlist."""

    version = fields.Integer(required=True)
    intercept = fields.Float(required=True)


class WaitlistResponseSchema(Schema):
    """The assignment with the largest total score, and greedy's total for comparison."""

    model = fields.Nested(WaitlistModelSchema, required=True)
    assignments = fields.List(fields.Nested(AssignmentSchema), required=True)
    unassigned = fields.List(fields.Nested(UnassignedSchema), required=True)
    total_score = fields.Float(required=True)
    greedy_total_score = fields.Float(
        required=True,
        metadata={"description": "Assigning in list order, each to the best remaining therapist"},
    )
    placed = fields.Integer(required=True)
    greedy_placed = fields.Integer(required=True)
    committed = fields.Boolean(required=True)
    referrals = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "With commit: the referral id made for each placed client_ref"},
    )
