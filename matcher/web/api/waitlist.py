"""``POST /api/v1/waitlist/assign``: a waitlist placed for the best total predicted alliance."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.waitlist import WaitlistRequestSchema, WaitlistResponseSchema
from matcher.services import waitlist
from matcher.services.keys import allows
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

F = TypeVar("F", bound=Callable[..., Any])
blp = ApiBlueprint("waitlist", __name__, url_prefix="/api/v1", description="Waitlist assignment")


def document(proposal: waitlist.Proposal, made: dict[str, str] | None) -> dict[str, Any]:
    """A proposal as the API (and the page's tests) read it."""
    baseline = {g.client_ref: g.therapist_id for g in proposal.greedy}
    return {
        "model": {"version": proposal.model_version, "intercept": proposal.intercept},
        "assignments": [
            {
                "client_ref": p.client_ref,
                "therapist_id": p.therapist_id,
                "name": p.name,
                "score": p.score,
                "contributions": p.contributions,
                **({} if p.reasons is None else {"reasons": p.reasons}),
                "greedy_therapist_id": baseline[p.client_ref],
            }
            for p in proposal.assignments
        ],
        "unassigned": [
            {
                "client_ref": u.client_ref,
                "reason": u.reason,
                "greedy_therapist_id": baseline[u.client_ref],
            }
            for u in proposal.unassigned
        ],
        "total_score": proposal.total_score,
        "greedy_total_score": proposal.greedy_total_score,
        "placed": proposal.placed,
        "greedy_placed": proposal.greedy_placed,
        "committed": made is not None,
        "referrals": made or {},
    }


def _import_sized(view: F) -> F:
    """Give the view the bulk import's body allowance (2,000 intakes outgrow the default)."""

    @functools.wraps(view)
    def allowed(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = services().settings.max_import_bytes
        return view(*args, **kwargs)

    return allowed  # type: ignore[return-value]


@blp.route("/waitlist/assign")
class Assign(MethodView):
    """Waitlist assignment."""

    @blp.requires("match")
    @_import_sized
    @blp.arguments(WaitlistRequestSchema())
    @blp.response(200, WaitlistResponseSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place every waiting client at once: hard filters, open slots, best total score."""
        if body["commit"] and not allows(current_key(), "outcomes"):
            abort(403, message="commit: true also needs the 'outcomes' scope.")
        app = services()
        clients = [
            waitlist.WaitingClient(client_ref=c["client_ref"], intake=c["intake"])
            for c in body["clients"]
        ]
        if not body["commit"]:
            proposal = waitlist.propose(
                matching=app.matching, clients=clients, explain=body["explain"]
            )
            return document(proposal, None)
        with app.writing() as session:
            proposal, made = waitlist.commit(
                session,
                matching=app.matching,
                clients=clients,
                key_id=current_key().id,
                explain=body["explain"],
                organisation_id=current_key().organisation_id,
            )
        return document(proposal, made)
