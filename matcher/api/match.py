"""``POST /api/v1/match``: ranked therapists for an intake, every score explained."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from matcher import outcomes
from matcher.access import allows
from matcher.api.auth import current_key
from matcher.api.blueprint import ApiBlueprint
from matcher.intake import MatchRequestSchema
from matcher.scoring import FEATURE_MEANINGS

blp = ApiBlueprint("match", __name__, url_prefix="/api/v1", description="Matching")


class ModelRefSchema(Schema):
    """The model version that scored a match."""

    version = fields.Integer(required=True)
    intercept = fields.Float(required=True)


class RelaxationSchema(Schema):
    """Dropping one requirement, and how many more therapists that would let through."""

    drop = fields.String(required=True)
    adds = fields.Integer(required=True)


class ResultSchema(Schema):
    """One ranked therapist."""

    rank = fields.Integer(required=True)
    therapist_id = fields.String(required=True)
    name = fields.String(required=True)
    score = fields.Float(
        required=True, metadata={"description": "Predicted early alliance on 0..1"}
    )
    contributions = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "weight x match value per feature; they sum to score - intercept"},
    )
    features = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={
            "description": "Match value in 0..1 per feature: "
            + "; ".join(f"{k}: {v}" for k, v in FEATURE_MEANINGS.items())
        },
    )
    reasons = fields.List(fields.String(), required=True)


class MatchResponseSchema(Schema):
    """Ranked, explained results with the filters' counts."""

    match_id = fields.String(required=True, allow_none=True)
    model = fields.Nested(ModelRefSchema, required=True)
    eligible = fields.Integer(required=True)
    excluded = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    relaxations = fields.List(fields.Nested(RelaxationSchema), required=True)
    results = fields.List(fields.Nested(ResultSchema), required=True)


def as_document(outcome: Any, weights: Any, match_id: str | None) -> dict[str, Any]:
    """A match outcome as the API returns it."""
    return {
        "match_id": match_id,
        "model": {"version": weights.version, "intercept": weights.intercept},
        "eligible": outcome.eligible,
        "excluded": outcome.excluded,
        "relaxations": outcome.relaxations,
        "results": [
            {
                "rank": r.rank,
                "therapist_id": r.therapist_id,
                "name": r.name,
                "score": r.score,
                "contributions": r.contributions,
                "features": r.features,
                "reasons": r.reasons,
            }
            for r in outcome.results
        ],
    }


def _json(document: dict[str, Any]) -> Response:
    # The document is built from plain values already; dumping it again through the response
    # schema (which documents it) would only cost time on the hot path.
    return Response(json.dumps(document, separators=(",", ":")), mimetype="application/json")


@blp.route("/match")
class Match(MethodView):
    """Matching."""

    @blp.requires("match")
    @blp.arguments(MatchRequestSchema())
    @blp.response(200, MatchResponseSchema)
    def post(self, request: dict[str, Any]) -> Response:
        """Rank therapists for an intake: hard filters first, then the transparent score."""
        if request["record"] and not allows(current_key(), "outcomes"):
            abort(403, message="record: true also needs the 'outcomes' scope.")
        services = current_app.extensions["matcher"]
        if not request["record"]:
            outcome, snap = services.matching.match(request["intake"], limit=request["limit"])
            return _json(as_document(outcome, snap.weights, None))
        recorded = services.matching.match_for_record(
            request["intake"],
            limit=request["limit"],
            exploration=services.settings.exploration,
            rng=services.rng,
        )
        match_id = outcomes.record_match(
            services.db,
            intake=request["intake"],
            limit=request["limit"],
            client_ref=request["client_ref"],
            outcome=recorded.outcome,
            candidates=recorded.candidates,
            model_version=recorded.snapshot.weights.version,
            key_id=current_key().id,
            exploration=recorded.explored,
            feature_means=recorded.feature_means,
        )
        return _json(as_document(recorded.outcome, recorded.snapshot.weights, match_id))
