"""Model versions and the audit log."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from matcher.core.scoring import FEATURE_MEANINGS, FEATURES
from matcher.schemas.common import Strict, page_of
from matcher.schemas.fields import Number, Text

STATUSES = ("active", "candidate", "retired")
SOURCES = ("default", "manual", "learned")


class ModelSchema(Schema):
    """A model version."""

    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    note = fields.String(required=True)
    intercept = fields.Float(required=True)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    activated_at = fields.DateTime(allow_none=True)
    evaluation = fields.Dict(allow_none=True, metadata={"description": "Learned versions only"})


ModelListSchema = page_of(ModelSchema, "ModelListSchema")


def _weight(feature: str) -> Number:
    return Number(
        validate=validate.Range(0, 1), metadata={"description": FEATURE_MEANINGS[feature]}
    )


_weight_fields: dict[str, Any] = {name: _weight(name) for name in FEATURES}
WeightsSchema = Strict.from_dict(_weight_fields, name="WeightsSchema")
WeightsSchema.__doc__ = "One weight >= 0 per known feature; a feature left out weighs 0."

SUM_RULE = "intercept + the sum of weights must be at most 1, so that every score is within 0..1"


class ModelRequestSchema(Strict):
    """A manual candidate."""

    weights = fields.Nested(WeightsSchema, required=True, metadata={"description": SUM_RULE})
    intercept = Number(
        required=True, validate=validate.Range(0, 1), metadata={"description": SUM_RULE}
    )
    note = Text(load_default="", validate=validate.Length(max=1000))


class NoteSchema(Strict):
    """Why."""

    note = Text(load_default="", validate=validate.Length(max=1000))


class AuditEventSchema(Schema):
    """One audit event."""

    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    subject = fields.String(required=True)
    note = fields.String(required=True)
    details = fields.Dict(required=True)


class AuditPageSchema(Schema):
    """Newest audit events first."""

    items = fields.List(fields.Nested(AuditEventSchema), required=True)
