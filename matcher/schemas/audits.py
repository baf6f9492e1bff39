"""The exposure audit: its query and its answer."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields

from matcher.schemas.common import Strict


class ExposureQuerySchema(Strict):
    """The window of recorded matches to audit (either end may be left open)."""

    since = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Matches recorded at or after this time (no zone: UTC)"},
    )
    until = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Matches recorded before this time (no zone: UTC)"},
    )


class TherapistGroupSchema(Schema):
    """One therapist group: its share of eligible slots against its share of top-5 exposure."""

    group = fields.String(required=True, metadata={"description": "dimension:value"})
    dimension = fields.String(
        required=True,
        metadata={
            "description": "experience (new: no ratings yet), identity, gender, jurisdiction"
        },
    )
    value = fields.String(required=True)
    eligible_slots = fields.Integer(required=True)
    eligible_share = fields.Float(required=True, allow_none=True)
    top5_slots = fields.Integer(required=True)
    top5_share = fields.Float(required=True, allow_none=True)
    exposure_ratio = fields.Float(
        required=True, allow_none=True, metadata={"description": "top5_share / eligible_share"}
    )
    under_four_fifths = fields.Boolean(
        required=True, metadata={"description": "exposure_ratio under 0.8"}
    )
    rated_referrals = fields.Integer(required=True)
    mean_alliance = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Mean early alliance (0..1) of its rated referrals"},
    )


class ClientGroupSchema(Schema):
    """One client group, from what intakes said: how well the service served it."""

    group = fields.String(required=True)
    dimension = fields.String(
        required=True, metadata={"description": "jurisdiction, age_group, language, identity"}
    )
    value = fields.String(required=True)
    rated_referrals = fields.Integer(required=True)
    mean_alliance = fields.Float(required=True, allow_none=True)
    alert_share = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Share of its rated referrals raising a rupture alert"},
    )


class NewTherapistsSchema(Schema):
    """How often therapists with no ratings yet reach the top 5."""

    matches_with_new_eligible = fields.Integer(required=True)
    matches_with_new_in_top5 = fields.Integer(required=True)
    share_reaching_top5 = fields.Float(required=True, allow_none=True)


class ExposureAuditSchema(Schema):
    """The exposure audit over recorded matches in a window."""

    since = fields.DateTime(required=True, allow_none=True)
    until = fields.DateTime(required=True, allow_none=True)
    matches = fields.Integer(
        required=True, metadata={"description": "Recorded matches counted (with group counts)"}
    )
    matches_without_counts = fields.Integer(
        required=True, metadata={"description": "Recorded before group counts were kept"}
    )
    eligible_slots = fields.Integer(required=True)
    top5_slots = fields.Integer(required=True)
    new_therapists = fields.Nested(NewTherapistsSchema, required=True)
    therapist_groups = fields.List(fields.Nested(TherapistGroupSchema), required=True)
    client_groups = fields.List(fields.Nested(ClientGroupSchema), required=True)
