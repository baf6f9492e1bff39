"""Model versions and the audit log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from matcher.schemas.common import Strict, page_of
from matcher.schemas.fields import Number

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


class ModelRequestSchema(Strict):
    """A manual candidate."""

    weights = fields.Dict(keys=fields.String(), values=Number(), required=True)
    intercept = Number(required=True, validate=validate.Range(0, 1))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class NoteSchema(Strict):
    """Why."""

    note = fields.String(load_default="", validate=validate.Length(max=1000))


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
