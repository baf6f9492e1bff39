"""``GET /api/v1/audits/exposure``: who gets the first page, and who is served well (admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from matcher.schemas.audits import ExposureAuditSchema, ExposureQuerySchema
from matcher.services import exposure
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

blp = ApiBlueprint("audits", __name__, url_prefix="/api/v1/audits", description="Audits")


def exposure_audit(query: dict[str, Any]) -> dict[str, Any]:
    """The audit for a window (the API and the admin page share it)."""
    settings = services().settings
    with services().reading() as session:
        return exposure.audit(
            session,
            since=query.get("since"),
            until=query.get("until"),
            wai_below=settings.wai_alert_below,
            drop=settings.alert_drop_share,
        )


@blp.route("/exposure")
class ExposureAudit(MethodView):
    """The exposure audit."""

    @blp.requires("admin")
    @blp.arguments(ExposureQuerySchema(), location="query")
    @blp.response(200, ExposureAuditSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Per therapist group: share of eligible slots vs share of top-5 exposure in recorded
        matches, and mean early alliance of its referrals; per client group: mean early alliance
        and the share with a rupture alert."""
        return exposure_audit(query)
