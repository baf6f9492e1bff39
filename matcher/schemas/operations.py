"""Liveness and readiness."""

from __future__ import annotations

from marshmallow import Schema, fields


class HealthSchema(Schema):
    """Liveness."""

    status = fields.String(required=True)


class ReadinessSchema(Schema):
    """Readiness, with each check's result."""

    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
