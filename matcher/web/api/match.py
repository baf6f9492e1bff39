"""``POST /api/v1/match``: ranked therapists for an intake, every score explained."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.match import MatchRequestSchema, MatchResponseSchema
from matcher.services import outcomes
from matcher.services.keys import allows
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("match", __name__, url_prefix="/api/v1", description="Matching")


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
    # schema (which documents it) would only cost time on the hot path. Instead,
    # tests/web/api/test_match_document.py loads real answers with that schema and validates
    # them against the served OpenAPI document.
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
