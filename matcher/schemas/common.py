"""Schemas every part shares: strict input, problem details, one page query and page wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, types, validate


class Strict(Schema):
    """Refuses unknown fields so that a misspelt field is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class OneOf(Schema):
    """A body of several shapes, each its own schema, chosen by the ``discriminator`` field."""

    discriminator: ClassVar[str]
    shapes: ClassVar[Mapping[str, type[Schema]]]

    def load(
        self,
        data: Any,
        *,
        many: bool | None = None,
        partial: Any = None,
        unknown: types.UnknownOption | None = None,
    ) -> Any:
        """Load ``data`` with the shape its discriminator names."""
        if many if many is not None else self.many:
            if not isinstance(data, list):
                raise ValidationError({"_schema": ["Expected a list."]})
            loaded, errors = [], {}
            for index, item in enumerate(data):
                try:
                    loaded.append(self.load(item, many=False, partial=partial, unknown=unknown))
                except ValidationError as err:
                    errors[index] = err.messages
            if errors:
                raise ValidationError(errors)
            return loaded
        if not isinstance(data, Mapping):
            raise ValidationError({"_schema": ["Expected a JSON object."]})
        tag = data.get(self.discriminator)
        shape = self.shapes.get(tag) if isinstance(tag, str) else None
        if shape is None:
            known = ", ".join(self.shapes)
            missing = self.discriminator not in data
            message = "Missing data for required field." if missing else f"Use one of: {known}."
            raise ValidationError({self.discriminator: [message]})
        return shape().load(data, partial=partial, unknown=unknown)


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


class PageQuerySchema(Strict):
    """Paging for a list (an unknown, say misspelt, parameter is refused)."""

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
