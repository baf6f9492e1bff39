"""History import: past referrals with their ratings (scope ``outcomes``)."""

from __future__ import annotations

from flask.views import MethodView

from matcher.schemas.common import ProblemSchema
from matcher.schemas.outcomes import HistoryResultSchema
from matcher.services import history
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.api.imports import import_records
from matcher.web.api.problems import PROBLEM_MIMETYPE
from matcher.web.context import services

blp = ApiBlueprint("history", __name__, url_prefix="/api/v1/history", description="Past referrals")


_RECORD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["client_ref", "intake", "therapist_id", "referred_at", "ratings"],
    "properties": {
        "client_ref": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "pattern": "^[^\\u0000]*$",
            "description": "An opaque caller reference; store nothing that names a person",
        },
        "intake": {"$ref": "#/components/schemas/Intake"},
        "therapist_id": {"type": "string", "description": "A therapist in the directory"},
        "referred_at": {"type": "string", "format": "date-time"},
        "ratings": {
            "type": "array",
            "minItems": 1,
            "maxItems": 6,
            "description": "At most one rating per instrument and session",
            "items": {"$ref": "#/components/schemas/RatingRequest"},
        },
    },
}
_BODY = {
    "required": True,
    "description": (
        "A JSON array of at least one past referral, or NDJSON (one per line) with "
        "Content-Type: application/x-ndjson. All or nothing."
    ),
    "content": {
        "application/json": {"schema": {"type": "array", "minItems": 1, "items": _RECORD}},
    },
}


@blp.route("/import")
class HistoryImport(MethodView):
    """Import past referrals."""

    @blp.requires("outcomes")
    @blp.doc(requestBody=_BODY)
    @blp.response(200, HistoryResultSchema)
    @blp.alt_response(
        422,
        schema=ProblemSchema,
        content_type=PROBLEM_MIMETYPE,
        description="Nothing imported; `errors` names each bad record as `[index].field`",
    )
    def post(self) -> dict[str, int]:
        """Import a JSON array or NDJSON of past referrals with ratings, all or nothing."""
        # Bounded as the profile import is: a body limit per format, NDJSON read as it
        # streams, a record limit and a capped report.
        records, limits = import_records()
        validated = history.validate_history(records, limits=limits)
        with services().writing() as session:
            return history.import_history(
                session,
                records=validated,
                matching=services().matching,
                key_id=current_key().id,
                organisation_id=current_key().organisation_id,
            )
