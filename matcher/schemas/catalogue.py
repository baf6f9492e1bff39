"""The code lists and the alliance instruments' scoring keys."""

from __future__ import annotations

from marshmallow import Schema, fields


class TermSchema(Schema):
    """One code and its label."""

    code = fields.String(required=True)
    label = fields.String(required=True)


def _terms() -> fields.List[dict[str, str]]:
    return fields.List(fields.Nested(TermSchema), required=True)


class VocabularySchema(Schema):
    """Every code list the profile and intake fields draw from."""

    modalities = _terms()
    concerns = _terms()
    populations = _terms()
    identities = _terms()
    faiths = _terms()
    formats = _terms()
    genders = _terms()
    languages = _terms()
    jurisdictions = _terms()
    style_dimensions = _terms()
    days = _terms()
    insurance = fields.List(
        fields.Nested(TermSchema),
        required=True,
        metadata={
            "description": "Common plan codes (the demo directory's and large US and Canadian "
            "payers'); profiles and intakes may use any other lower_snake_case code"
        },
    )
    timezones = fields.List(
        fields.Nested(TermSchema),
        required=True,
        metadata={"description": "IANA time zones; aliases such as US/Pacific are also accepted"},
    )


class InstrumentSchema(Schema):
    """One instrument's scoring key; item wording only when a licensed file was loaded."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    items = fields.Integer(required=True)
    item_min = fields.Float(required=True)
    item_max = fields.Float(required=True)
    integer_items = fields.Boolean(required=True)
    subscales = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Integer()),
        required=True,
        metadata={"description": "Subscale -> its 1-based item numbers"},
    )
    score = fields.String(required=True, metadata={"description": "How the 0..1 score is made"})
    concern_below = fields.Float(allow_none=True, required=True)
    wording = fields.List(
        fields.String(),
        allow_none=True,
        required=True,
        metadata={"description": "Item texts from MATCHER_INSTRUMENT_WORDING; null otherwise"},
    )


class InstrumentListSchema(Schema):
    """Every instrument."""

    items = fields.List(fields.Nested(InstrumentSchema), required=True)
