"""``/healthz`` and ``/readyz`` for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import text

from matcher.schemas.operations import HealthSchema, ReadinessSchema
from matcher.storage.schema import is_current
from matcher.web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("operations", __name__, description="Liveness and readiness")


def readiness_checks() -> dict[str, str]:
    """Run every readiness check: "ok" or what is wrong, by check."""
    services = current_app.extensions["matcher"]
    checks: dict[str, str] = {}
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["schema"] = (
            "ok" if is_current(services.db) else "not migrated: run matcher db upgrade"
        )
    except Exception as err:
        checks["database"] = f"unreachable: {type(err).__name__}"
    for name, check in services.readiness.items():
        checks[name] = check()
    return checks


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
        checks = readiness_checks()
        failing = {name: [state] for name, state in checks.items() if state != "ok"}
        if failing:
            abort(503, message="Not ready.", errors=failing)
        return {"status": "ready", "checks": checks}
