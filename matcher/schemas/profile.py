"""The therapist profile: its schema, with every rule of the public contract."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from matcher import vocabulary as vocab
from matcher.schemas.common import PageQuerySchema, Strict, page_of
from matcher.schemas.compiled import Undecided, compile_schema
from matcher.schemas.fields import (
    Clock,
    Code,
    CodeList,
    Number,
    OpaqueCode,
    Pattern,
    StrictBoolean,
    StrictInteger,
    Text,
    TimeZone,
    distinct,
)
from matcher.schemas.openapi import JsonSchema, containing, has, lacks, together

# Not "import", which names the bulk import under /therapists/, nor "." and "..", which are
# path segments rather than names.
ID_PATTERN = r"^(?!(import|\.|\.\.)$)[A-Za-z0-9._-]{1,64}$"
ID_ERROR = "Use 1-64 letters, digits, '.', '_' or '-' (not 'import', '.' or '..')."


def profile_id(**kwargs: Any) -> fields.String:
    """A therapist id field."""
    return fields.String(validate=Pattern(ID_PATTERN, error=ID_ERROR), **kwargs)


INSURANCE_CODES = (
    "Plan codes: GET /api/v1/vocabulary lists common ones under `insurance`; any other "
    "lower_snake_case code is accepted too, for a directory's local plans"
)


class LicenseSchema(Strict):
    """A licence to practise in one jurisdiction."""

    jurisdiction = Code(vocab.jurisdictions, "jurisdiction", required=True)
    credential = Text(required=True, validate=validate.Length(min=1, max=100))


class LocationSchema(Strict):
    """Where the therapist sees clients in person."""

    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))
    postal_code = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=16))


class WindowSchema(Strict):
    """A weekly availability window in local time."""

    day = Code(vocab.DAYS, "day", required=True)
    start = Clock(required=True)
    end = Clock(
        required=True,
        allow_midnight_end=True,
        metadata={"description": "Later than start; 24:00 for a window ending at midnight"},
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        # Run only when both are valid HH:MM (skip_on_field_errors), and zero-padded clocks
        # order as text as they do as times; parsing both cost ~1 µs a window, a sixth of the
        # compiled profile check (tests/schemas/test_profile.py checks every clock).
        if data["start"] >= data["end"]:
            raise ValidationError("Must be later than start.", field_name="end")


class FeeSchema(Strict):
    """The fee for one session, with an optional sliding-scale minimum."""

    amount = Number(required=True, validate=validate.Range(0, 100_000))
    currency = Code(vocab.currencies, "currency (ISO 4217)", required=True)
    sliding_scale_min = Number(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 100_000),
        metadata={"description": "At most amount"},
    )

    @validates_schema
    def _sliding_below_fee(self, data: dict[str, Any], **_: Any) -> None:
        low = data.get("sliding_scale_min")
        if low is not None and low > data["amount"]:
            raise ValidationError("Must not exceed amount.", field_name="sliding_scale_min")


def _style_dimension() -> StrictInteger:
    return StrictInteger(validate=validate.Range(vocab.STYLE_MIN, vocab.STYLE_MAX))


class StyleSchema(Strict):
    """Therapy style on the four Cooper-Norcross dimensions, each -3..3."""

    directiveness = _style_dimension()
    emotional_intensity = _style_dimension()
    past_orientation = _style_dimension()
    challenge = _style_dimension()


class TherapistProfileSchema(Strict):
    """A therapist profile as integrators submit it (contract: "Therapist profile")."""

    # The rule of _in_person_needs_location below, in the document's terms.
    forbidden: ClassVar[tuple[JsonSchema, ...]] = (
        together(has("formats", containing("in_person")), lacks("location")),
    )

    id = profile_id(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    gender = Code(vocab.GENDERS, "gender", load_default=None, allow_none=True)
    licenses = fields.List(
        fields.Nested(LicenseSchema),
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "At most one licence per jurisdiction"},
    )
    modalities = CodeList(vocab.MODALITIES, "modality", min_items=1, required=True)
    concerns = CodeList(vocab.CONCERNS, "concern")
    populations = CodeList(vocab.POPULATIONS, "population")
    languages = CodeList(vocab.languages, "language (ISO 639-1)", min_items=1, required=True)
    identities = CodeList(vocab.IDENTITIES, "identity")
    competencies = CodeList(vocab.IDENTITIES, "identity")
    faith = Code(vocab.FAITHS, "faith", load_default=None, allow_none=True)
    formats = CodeList(vocab.FORMATS, "format", min_items=1, required=True)
    location = fields.Nested(
        LocationSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Required when formats includes in_person"},
    )
    timezone = TimeZone(required=True)
    availability = fields.List(
        fields.Nested(WindowSchema),
        load_default=list,
        validate=validate.Length(max=64),
        metadata={"description": "Weekly windows in the therapist's timezone"},
    )
    accepting_new_clients = StrictBoolean(required=True)
    capacity = StrictInteger(required=True, validate=validate.Range(0, 10_000))
    fee = fields.Nested(FeeSchema, load_default=None, allow_none=True)
    insurance = fields.List(
        OpaqueCode(),
        load_default=list,
        validate=[validate.Length(max=64), distinct],
        metadata={"description": INSURANCE_CODES},
    )
    style = fields.Nested(StyleSchema, load_default=dict)

    @validates_schema(skip_on_field_errors=False)
    def _in_person_needs_location(self, data: dict[str, Any], **_: Any) -> None:
        if "in_person" in data.get("formats", ()) and data.get("location") is None:
            raise ValidationError("Required when formats includes in_person.", "location")

    @validates_schema(skip_on_field_errors=False)
    def _one_license_per_jurisdiction(self, data: dict[str, Any], **_: Any) -> None:
        places = [lic.get("jurisdiction") for lic in data.get("licenses") or ()]
        if len(places) != len(set(places)):
            raise ValidationError("Each jurisdiction may be listed once.", "licenses")


class TherapistUpsertSchema(TherapistProfileSchema):
    """The body of ``PUT /therapists/{id}``: ``id`` may be left out (the path names it)."""

    id = profile_id(load_default=None, metadata={"description": "When given, the id in the path"})


class TherapistSchema(TherapistProfileSchema):
    """A stored profile as the API returns it."""

    active = fields.Boolean(dump_only=True, required=True)
    created_at = fields.DateTime(dump_only=True, required=True)
    updated_at = fields.DateTime(dump_only=True, required=True)
    accepting_confirmed_at = fields.DateTime(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={
            "description": (
                "Read-only: when accepting new clients was last confirmed (a write saying so, "
                "POST /therapists/{id}/confirm or the therapist's link); null when never, or "
                "since the therapist declined a referral for lack of space"
            )
        },
    )


PROFILE_FIELDS: tuple[str, ...] = tuple(TherapistProfileSchema().fields)
# Schemas keep no per-load state, and building one deep-copies every field: build it once.
_PROFILE_SCHEMA = TherapistProfileSchema()
# The same schema compiled to plain checks (about 10x less CPU than load on a valid profile, which
# bulk import needs); whatever it does not accept, load decides, with its own messages.
_ACCEPT_PROFILE = compile_schema(_PROFILE_SCHEMA)


def validate_profile(record: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Validate one raw profile: the normalised profile, or None and its errors."""
    if not isinstance(record, dict):
        return None, {"_schema": ["Each record must be a JSON object."]}
    try:
        return _ACCEPT_PROFILE(record), {}
    except Undecided:
        pass
    try:
        return _PROFILE_SCHEMA.load(record), {}
    except ValidationError as err:
        messages: dict[str, Any] = err.normalized_messages()  # type: ignore[no-untyped-call]
        return None, messages


class TherapistQuerySchema(PageQuerySchema):
    """Paging and filters for the therapist list."""

    jurisdiction = Code(vocab.jurisdictions, "jurisdiction")
    language = Code(vocab.languages, "language")
    modality = Code(vocab.MODALITIES, "modality")
    concern = Code(vocab.CONCERNS, "concern")
    population = Code(vocab.POPULATIONS, "population")
    format = Code(vocab.FORMATS, "format")
    accepting = fields.Boolean(metadata={"description": "Only those (not) accepting new clients"})
    include_inactive = fields.Boolean(load_default=False)


TherapistPageSchema = page_of(TherapistSchema, "TherapistPageSchema")


class ImportResultSchema(Schema):
    """What an import did."""

    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)


class AvailabilityLinksSchema(Schema):
    """Signed one-click links a directory can email a therapist: "Still accepting new clients?"."""

    therapist_id = fields.String(required=True)
    yes = fields.String(
        required=True, metadata={"description": "Confirms at once (safe for mail scanners)"}
    )
    no = fields.String(
        required=True, metadata={"description": "A page with one button: not accepting"}
    )
    full_until = fields.String(
        required=True, metadata={"description": "A page asking until when, with one button"}
    )
    expires_at = fields.DateTime(required=True)
