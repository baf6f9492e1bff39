"""Referrals and early-alliance ratings (scope ``outcomes``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from matcher.schemas.outcomes import (
    DeclineRequestSchema,
    RatingRequestSchema,
    RatingSchema,
    ReferralRequestSchema,
    ReferralSchema,
)
from matcher.services import referrals
from matcher.services.referrals import AllianceRating, Referral
from matcher.web.api.auth import current_key, current_reach
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

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
        "declined_at": referral.declined_at,
        "decline_reason": referral.decline_reason,
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


@blp.route("")
class Referrals(MethodView):
    """Referrals."""

    @blp.requires("outcomes")
    @blp.arguments(ReferralRequestSchema())
    @blp.response(201, ReferralSchema)
    @blp.problem(409, "The therapist has no open slot, or this pair was already referred")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Refer: the therapist must have been eligible in that match; takes one open slot."""
        with services().writing() as session:
            referral = referrals.refer(
                session, key_id=current_key().id, organisation_id=current_reach(), **body
            )
            return _referral_document(referral, [])


@blp.route("/<id:referral_id>")
class ReferralById(MethodView):
    """One referral."""

    @blp.requires("outcomes")
    @blp.response(200, ReferralSchema)
    @blp.problem(404, "No such referral in the key's organisation")
    def get(self, referral_id: str) -> dict[str, Any]:
        """A referral with its alliance ratings."""
        with services().reading() as session:
            found = referrals.get_referral(
                session, referral_id=referral_id, organisation_id=current_reach()
            )
            return _referral_document(*found)


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
        with services().writing() as session:
            rating, created = referrals.rate(
                session,
                referral_id=referral_id,
                instrument=body["instrument"],
                session_number=body["session"],
                items=body["items"],
                key_id=current_key().id,
                organisation_id=current_reach(),
            )
            return _rating_document(rating), 201 if created else 200


@blp.route("/<id:referral_id>/decline")
class Decline(MethodView):
    """The therapist declined the client."""

    @blp.requires("outcomes")
    @blp.arguments(DeclineRequestSchema())
    @blp.response(200, ReferralSchema)
    @blp.problem(409, "Already declined for another reason")
    def post(self, body: dict[str, Any], referral_id: str) -> dict[str, Any]:
        """Record a decline: the slot comes back, except for lack of space (which makes the
        therapist's "accepting" stale until confirmed again)."""
        with services().writing() as session:
            reach = current_reach()
            referrals.decline(
                session, referral_id=referral_id, reason=body["reason"], organisation_id=reach
            )
            return _referral_document(
                *referrals.get_referral(session, referral_id=referral_id, organisation_id=reach)
            )
