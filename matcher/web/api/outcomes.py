"""Referrals and early-alliance ratings (scope ``outcomes``)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.outcomes import (
    RatingRequestSchema,
    RatingSchema,
    ReferralRequestSchema,
    ReferralSchema,
)
from matcher.services import outcomes
from matcher.storage.tables import AllianceRating, Referral
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint

blp = ApiBlueprint(
    "outcomes", __name__, url_prefix="/api/v1/referrals", description="Referrals and alliance"
)


def _referral_document(referral: Referral, ratings: list[AllianceRating]) -> dict[str, Any]:
    return {
        "id": referral.id,
        "match_id": referral.match_id,
        "therapist_id": referral.therapist_id,
        "model_version": referral.model_version,
        "created_at": referral.created_at,
        "rank": referral.rank,
        "score": referral.score,
        "features": referral.features,
        "ratings": [_rating_document(r) for r in ratings],
    }


def _rating_document(rating: AllianceRating) -> dict[str, Any]:
    return {
        name: getattr(rating, name)
        for name in (
            "id",
            "referral_id",
            "instrument",
            "session",
            "items",
            "total",
            "subscales",
            "score",
            "flags",
            "created_at",
        )
    }


def _refuse(refusal: outcomes.OutcomeRefused) -> None:
    abort(refusal.status, message=refusal.detail, errors=refusal.errors or None)


@blp.route("")
class Referrals(MethodView):
    """Referrals."""

    @blp.requires("outcomes")
    @blp.arguments(ReferralRequestSchema())
    @blp.response(201, ReferralSchema)
    @blp.problem(409, "The therapist has no open slot, or this pair was already referred")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Refer: the therapist must have been eligible in that match; takes one open slot."""
        db = current_app.extensions["matcher"].db
        try:
            referral = outcomes.refer(db, key_id=current_key().id, **body)
        except outcomes.OutcomeRefused as refusal:
            _refuse(refusal)
        return _referral_document(referral, [])


@blp.route("/<id:referral_id>")
class ReferralById(MethodView):
    """One referral."""

    @blp.requires("outcomes")
    @blp.response(200, ReferralSchema)
    def get(self, referral_id: str) -> dict[str, Any]:
        """A referral with its alliance ratings."""
        found = outcomes.get_referral(current_app.extensions["matcher"].db, referral_id=referral_id)
        if found is None:
            abort(404, message=f"No referral {referral_id!r}.")
        return _referral_document(*found)  # type: ignore[misc]


@blp.route("/<id:referral_id>/alliance")
class Alliance(MethodView):
    """Early-alliance ratings of a referral."""

    @blp.requires("outcomes")
    @blp.arguments(RatingRequestSchema())
    @blp.response(201, RatingSchema, description="Stored")
    @blp.alt_response(200, schema=RatingSchema, description="The same rating was already stored")
    @blp.problem(409, "A different rating is already stored for this session")
    def post(self, body: dict[str, Any], referral_id: str) -> tuple[dict[str, Any], int]:
        """Record a WAI-SR or SRS rating for session 1-3; the same again is answered 200."""
        db = current_app.extensions["matcher"].db
        try:
            rating, created = outcomes.rate(
                db,
                referral_id=referral_id,
                instrument=body["instrument"],
                session_number=body["session"],
                items=body["items"],
                key_id=current_key().id,
            )
        except outcomes.OutcomeRefused as refusal:
            _refuse(refusal)
        return _rating_document(rating), 201 if created else 200
