"""``POST /api/v1/match``: ranked therapists for an intake, every score explained."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.match import MatchRequestSchema, MatchResponseSchema
from matcher.services import recording
from matcher.services.keys import allows
from matcher.services.matching import answer
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services
from matcher.web.metrics import note_index, timing_match

blp = ApiBlueprint("match", __name__, url_prefix="/api/v1", description="Matching")


def _json(document: dict[str, Any]) -> Response:
    # The document is built from plain values already; dumping it again through the response
    # schema (which documents it) would only cost time on the hot path. Instead,
    # tests/web/api/test_match_document.py loads real answers with that schema and validates
    # them against the served OpenAPI document. Scores are finite, so orjson writes what json
    # would, in a tenth of the time.
    return Response(orjson.dumps(document), mimetype="application/json")


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
        app = services()
        if not request["record"]:
            with timing_match():
                outcome, snap = app.matching.match(request["intake"], limit=request["limit"])
            note_index(len(snap.index), snap.weights.version)
            return _json(answer(outcome, snap.weights, None))
        with app.writing() as session, timing_match():
            recorded, match_id = recording.record_match(
                session,
                matching=app.matching,
                intake=request["intake"],
                limit=request["limit"],
                client_ref=request["client_ref"],
                key_id=current_key().id,
                organisation_id=current_key().organisation_id,
                exploration=app.settings.exploration,
                exploration_policy=app.settings.exploration_policy,
                rng=app.rng,
            )
        note_index(len(recorded.snapshot.index), recorded.snapshot.weights.version)
        return _json(answer(recorded.outcome, recorded.snapshot.weights, match_id))
