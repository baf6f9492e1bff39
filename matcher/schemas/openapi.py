"""The schemas as the OpenAPI 3.0.3 document shows them: every rule the server applies.

apispec already writes types, ranges, lengths and patterns. This converter adds what it leaves
out: code lists as enums (with null when a field may be null), exclusive bounds, distinct lists,
a null-only alternative for nullable objects, bodies of several shapes (``oneOf`` with a
discriminator), and rules across fields (a JSON Schema ``not`` naming the forbidden combinations).
"""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema, fields, validate

from matcher.schemas.common import OneOf
from matcher.schemas.fields import Code, code_choices, distinct

JsonSchema = dict[str, Any]

# In 3.0.3 "nullable" only widens a schema that has a "type", and an enum must list null itself.
NULL: JsonSchema = {"type": "object", "nullable": True, "enum": [None]}
NOT_NULL: JsonSchema = {"not": NULL}
NON_EMPTY: JsonSchema = {"type": "array", "minItems": 1}


def containing(value: str) -> JsonSchema:
    """An array holding ``value`` (3.0.3 has no ``contains``: not every item is something else)."""
    return {"type": "array", "not": {"items": {"not": {"enum": [value]}}}}


def has(name: str, schema: JsonSchema) -> JsonSchema:
    """An object whose ``name`` is given and matches ``schema``."""
    return {"required": [name], "properties": {name: schema}}


def lacks(name: str) -> JsonSchema:
    """An object whose ``name`` is left out or null."""
    return {"anyOf": [{"not": {"required": [name]}}, {"properties": {name: NULL}}]}


def together(*schemas: JsonSchema) -> JsonSchema:
    """A combination of conditions (one forbidden combination when listed in ``forbidden``)."""
    return {"allOf": list(schemas)}


class DocumentConverter(OpenAPIConverter):
    """apispec's converter, writing the rules it would otherwise leave out."""

    def init_attribute_functions(self) -> None:
        """Add this project's attribute functions after apispec's own."""
        super().init_attribute_functions()  # type: ignore[no-untyped-call]
        self.attribute_functions += [
            self.code_enum,
            self.exclusive_bounds,
            self.unique_items,
            self.null_alternative,
        ]

    def code_enum(self, field: fields.Field[Any], **_: Any) -> JsonSchema:
        """A Code field's allowed values as an ``enum``, with null when it may be null."""
        if isinstance(field, Code):
            return {"enum": [*code_choices(field), *([None] if field.allow_none else [])]}
        return {}

    def exclusive_bounds(self, field: fields.Field[Any], **_: Any) -> JsonSchema:
        """``exclusiveMinimum``/``exclusiveMaximum`` for ranges that leave a bound out."""
        out: JsonSchema = {}
        for rule in field.validators:
            if isinstance(rule, validate.Range):
                if rule.min is not None and not rule.min_inclusive:
                    out["exclusiveMinimum"] = True
                if rule.max is not None and not rule.max_inclusive:
                    out["exclusiveMaximum"] = True
        return out

    def unique_items(self, field: fields.Field[Any], **_: Any) -> JsonSchema:
        """``uniqueItems`` for lists that refuse an item listed twice."""
        if isinstance(field, fields.List) and distinct in field.validators:
            return {"uniqueItems": True}
        return {}

    def null_alternative(self, field: fields.Field[Any], ret: JsonSchema, **_: Any) -> JsonSchema:
        """A nullable object's alternative admits null only, not any object."""
        alternatives = ret.get("anyOf")
        if not field.allow_none or not alternatives:
            return {}
        loose = {"type": "object", "nullable": True}
        return {"anyOf": [NULL if item == loose else item for item in alternatives]}

    def _reference(self, schema: type[Schema]) -> JsonSchema:
        """A ``$ref`` to ``schema``'s component (registered on first use)."""
        reference: JsonSchema = self.resolve_nested_schema(schema)  # type: ignore[no-untyped-call]
        return reference

    def schema2jsonschema(self, schema: Any) -> JsonSchema:
        """A schema's JSON Schema, with its shapes or its forbidden combinations."""
        instance = resolve_schema_instance(schema)
        if isinstance(instance, OneOf):
            shapes = {tag: self._reference(shape) for tag, shape in instance.shapes.items()}
            return {
                "oneOf": list(shapes.values()),
                "discriminator": {
                    "propertyName": instance.discriminator,
                    "mapping": {tag: ref["$ref"] for tag, ref in shapes.items()},
                },
            }
        document: JsonSchema = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        forbidden: tuple[JsonSchema, ...] = getattr(instance, "forbidden", ())
        if forbidden:
            document["not"] = {"anyOf": list(forbidden)} if len(forbidden) > 1 else forbidden[0]
        return document


class DocumentPlugin(MarshmallowPlugin):
    """The marshmallow plugin with this project's converter."""

    Converter = DocumentConverter
