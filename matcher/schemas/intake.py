"""The client's intake and the match request: what a client asks for, validated once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from matcher import vocabulary as vocab
from matcher.core import scoring
from matcher.schemas.common import Strict
from matcher.schemas.fields import Code, CodeList, Number, OpaqueCode, StrictBoolean, TimeZone
from matcher.schemas.openapi import NON_EMPTY, NOT_NULL, JsonSchema, has, lacks, together
from matcher.schemas.profile import (
    INSURANCE_CODES,
    StyleSchema,
    WindowSchema,
    profile_id,
)

# must_have names -> the intake fields that state that preference, from the features' records.
MUST_HAVE_SOURCES: Mapping[str, tuple[str, ...]] = scoring.MUST_HAVE_SOURCES


class ClientLocationSchema(Strict):
    """Where the client would travel from, for in-person sessions."""

    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))


class IntakeSchema(Strict):
    """A client's preferences (contract: "Match"); only ``jurisdiction`` is required.

    Lists are in order of preference. Omitted, null or empty means no preference.
    """

    # The rules of _availability_needs_timezone and _distance_needs_location, for the document.
    forbidden: ClassVar[tuple[JsonSchema, ...]] = (
        together(has("availability", NON_EMPTY), lacks("timezone")),
        together(has("max_distance_km", NOT_NULL), lacks("location")),
    )

    jurisdiction = Code(vocab.jurisdictions, "jurisdiction", required=True)
    age_group = Code(vocab.POPULATIONS, "population", load_default=None, allow_none=True)
    concerns = CodeList(vocab.CONCERNS, "concern", allow_none=True)
    modalities = CodeList(vocab.MODALITIES, "modality", allow_none=True)
    languages = CodeList(vocab.languages, "language (ISO 639-1)", allow_none=True)
    identities = CodeList(vocab.IDENTITIES, "identity", allow_none=True)
    wants_shared_identity = StrictBoolean(load_default=False, allow_none=True)
    therapist_genders = CodeList(vocab.GENDERS, "gender", allow_none=True)
    faith = Code(vocab.FAITHS, "faith", load_default=None, allow_none=True)
    formats = CodeList(vocab.FORMATS, "format", allow_none=True)
    location = fields.Nested(
        ClientLocationSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Required when max_distance_km is given"},
    )
    max_distance_km = Number(
        load_default=None, allow_none=True, validate=validate.Range(0, 20_000, min_inclusive=False)
    )
    timezone = TimeZone(load_default=None, allow_none=True)
    availability = fields.List(
        fields.Nested(WindowSchema),
        load_default=list,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "Weekly windows in the client's timezone, which is then required"},
    )
    max_fee = Number(load_default=None, allow_none=True, validate=validate.Range(0, 100_000))
    insurance = OpaqueCode(
        load_default=None, allow_none=True, metadata={"description": INSURANCE_CODES}
    )
    style = fields.Nested(StyleSchema, load_default=dict, allow_none=True)
    # A must-have without its preference is accepted and enforces nothing (the match warns).
    must_have = CodeList(MUST_HAVE_SOURCES, "must-have dimension", allow_none=True)
    exclude_therapists = fields.List(
        profile_id(),
        load_default=list,
        allow_none=True,
        validate=validate.Length(max=1000),
    )

    @validates_schema(skip_on_field_errors=False)
    def _availability_needs_timezone(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("availability") and not data.get("timezone"):
            raise ValidationError("Required when availability is given.", "timezone")

    @validates_schema(skip_on_field_errors=False)
    def _distance_needs_location(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("max_distance_km") is not None and not data.get("location"):
            raise ValidationError("Required when max_distance_km is given.", "location")


def normalise(intake: dict[str, Any]) -> dict[str, Any]:
    """Make null and omitted the same: empty lists, empty style, no shared-identity wish."""
    out = dict(intake)
    for name in (
        "concerns",
        "modalities",
        "languages",
        "identities",
        "therapist_genders",
        "formats",
        "availability",
        "must_have",
        "exclude_therapists",
    ):
        out[name] = out.get(name) or []
    out["style"] = out.get("style") or {}
    out["wants_shared_identity"] = bool(out.get("wants_shared_identity"))
    return out
