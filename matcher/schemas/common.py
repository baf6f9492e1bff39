"""Schemas every part shares: strict input, problem details, one page query and page wrapper."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate


class Strict(Schema):
    """Refuses unknown fields so that a misspelt field is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """An RFC 9457 problem: what went wrong and, for validation, which fields."""

    type = fields.String(required=True, metadata={"description": "A URI naming the problem type"})
    title = fields.String(required=True, metadata={"description": "The HTTP status phrase"})
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "What went wrong"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field path, e.g. `licenses[0].jurisdiction`"},
    )


class PageQuerySchema(Schema):
    """Paging for a list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The one page wrapper of every list: ``{"items", "total", "page", "page_size"}``."""
    members: dict[str, Any] = {
        "__doc__": f"One page of {item.__name__.removesuffix('Schema')} items.",
        "items": fields.List(fields.Nested(item), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "page_size": fields.Integer(required=True),
    }
    return type(name, (Schema,), members)
