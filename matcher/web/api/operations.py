"""``/healthz`` and ``/readyz`` for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from matcher.schemas.operations import HealthSchema, ReadinessSchema
from matcher.services.health import readiness
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

blp = ApiBlueprint("operations", __name__, description="Liveness and readiness")


@blp.route("/healthz")
class Health(MethodView):
    """Process liveness."""

    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    """Readiness to serve matches."""

    @blp.response(200, ReadinessSchema)
    @blp.problem(503, "Not ready; `errors` says which check failed")
    def get(self) -> dict[str, Any]:
        """Database reachable and migrated, matching index loaded."""
        checks = readiness(services().db, services().readiness)
        failing = {name: [state] for name, state in checks.items() if state != "ok"}
        if failing:
            abort(503, message="Not ready.", errors=failing)
        return {"status": "ready", "checks": checks}
