"""Therapist profiles: upsert, read, list, deactivate and bulk import."""

from __future__ import annotations

import re
from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.common import ProblemSchema
from matcher.schemas.profile import (
    ID_ERROR,
    ID_PATTERN,
    AvailabilityLinksSchema,
    ImportResultSchema,
    TherapistPageSchema,
    TherapistQuerySchema,
    TherapistSchema,
    TherapistUpsertSchema,
)
from matcher.services import directory, freshness
from matcher.services.directory import Therapist, TherapistFilter
from matcher.web.api.blueprint import ApiBlueprint, IdConverter
from matcher.web.api.imports import import_records
from matcher.web.api.problems import PROBLEM_MIMETYPE
from matcher.web.availability import availability_links
from matcher.web.context import services

blp = ApiBlueprint(
    "therapists", __name__, url_prefix="/api/v1/therapists", description="Therapist profiles"
)


class TherapistIdConverter(IdConverter):
    """A therapist id in a path: never ``import``, which names the bulk import beside it."""

    # Without this, PUT /therapists/import would create a therapist "import" (the import route
    # only takes POST, so routing fell through to the id route) and OPTIONS would offer PUT.
    regex = r"(?!import$)" + IdConverter.regex


PATH_ID = {"type": "string", "pattern": ID_PATTERN, "maxLength": 64}


def as_document(row: Therapist) -> dict[str, Any]:
    """A stored therapist as the API shows it."""
    return dict(
        row.document(), active=row.active, created_at=row.created_at, updated_at=row.updated_at
    )


def _valid_id(therapist_id: str) -> None:
    if not re.fullmatch(ID_PATTERN, therapist_id):
        abort(422, errors={"id": [ID_ERROR]}, message="Invalid therapist id in the path.")


@blp.route("")
class Therapists(MethodView):
    """The directory."""

    @blp.requires("profiles")
    @blp.arguments(TherapistQuerySchema(), location="query")
    @blp.response(200, TherapistPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List therapists, newest id order, with filters (inactive ones only on request)."""
        page, page_size = query.pop("page"), query.pop("page_size")
        where = TherapistFilter(**query)
        with services().reading() as session:
            rows, total = directory.list_therapists(
                session, where=where, page=page, page_size=page_size
            )
        return {
            "items": [as_document(r) for r in rows],
            "total": total,
            "page": page,
            "page_size": page_size,
        }


@blp.route("/<therapist_id:therapist_id>")
class TherapistById(MethodView):
    """One therapist."""

    @blp.requires("profiles")
    @blp.response(200, TherapistSchema)
    def get(self, therapist_id: str) -> dict[str, Any]:
        """Read one profile (a deactivated one shows ``active: false``)."""
        with services().reading() as session:
            return as_document(directory.get_therapist(session, therapist_id=therapist_id))

    @blp.requires("profiles")
    @blp.arguments(TherapistUpsertSchema())
    @blp.response(200, TherapistSchema, description="Replaced")
    @blp.alt_response(201, schema=TherapistSchema, description="Created")
    def put(self, profile: dict[str, Any], therapist_id: str) -> tuple[dict[str, Any], int]:
        """Create (201) or replace (200) a profile; a deactivated therapist is reactivated."""
        _valid_id(therapist_id)
        if profile.get("id") not in (None, therapist_id):
            abort(422, errors={"id": [f"Must equal the id in the path ({therapist_id!r})."]})
        profile["id"] = therapist_id
        with services().writing() as session:
            created = directory.upsert_profile(session, profile=profile)
            stored = directory.get_therapist(session, therapist_id=therapist_id)
            return as_document(stored), 201 if created else 200

    @blp.requires("profiles")
    @blp.response(204)
    def delete(self, therapist_id: str) -> None:
        """Deactivate: the therapist stops being matched; the record and history stay."""
        with services().writing() as session:
            directory.deactivate(session, therapist_id=therapist_id)


@blp.route("/<therapist_id:therapist_id>/confirm")
class TherapistConfirm(MethodView):
    """Availability freshness."""

    @blp.requires("profiles")
    @blp.response(200, TherapistSchema)
    @blp.problem(409, "The therapist is deactivated")
    def post(self, therapist_id: str) -> dict[str, Any]:
        """Confirm the therapist still accepts new clients (sets ``accepting_confirmed_at``)."""
        with services().writing() as session:
            return as_document(freshness.confirm(session, therapist_id=therapist_id))


@blp.route("/<therapist_id:therapist_id>/availability-links")
class TherapistAvailabilityLinks(MethodView):
    """Signed links to email a therapist."""

    @blp.requires("profiles")
    @blp.response(200, AvailabilityLinksSchema)
    def get(self, therapist_id: str) -> dict[str, Any]:
        """One-click links for "Still accepting new clients? Yes / No / Full until ...".

        They need no account, work until the therapist answers "no" or "full until" (or they
        expire), and a "yes" confirms once however often the link is opened.
        """
        settings = services().settings
        with services().reading() as session:
            token = freshness.link_token(
                session, secret=settings.secret_key, therapist_id=therapist_id
            )
        return dict(
            availability_links(token, settings.availability_link_days),
            therapist_id=therapist_id,
        )


_IMPORT_BODY = {
    "required": True,
    "description": (
        "A JSON array of at least one profile, or NDJSON (one profile per line) with "
        "Content-Type: application/x-ndjson. Each id at most once. All or nothing. At most "
        "10,000 profiles by default (MATCHER_MAX_IMPORT_RECORDS); a JSON array up to 16 MiB, "
        "NDJSON up to 64 MiB (413 above). A refusal lists the first 100 problems and counts all."
    ),
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/TherapistProfile"},
            }
        },
    },
}


@blp.route("/import")
class TherapistImport(MethodView):
    """Bulk import."""

    @blp.requires("profiles")
    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ImportResultSchema)
    @blp.alt_response(
        422,
        schema=ProblemSchema,
        content_type=PROBLEM_MIMETYPE,
        description="Nothing imported; `errors` names each bad record as `[index].field`",
    )
    def post(self) -> dict[str, int]:
        """Create or replace many profiles in one transaction."""
        records, limits = import_records()
        # Read and validated before the write transaction, so no lock waits on validation.
        batch = directory.validate_import(records, limits=limits)
        with services().writing() as session:
            created, updated = directory.import_profiles(session, profiles=batch)
        return {"created": created, "updated": updated}
