"""``GET /api/v1/instruments``: the alliance instruments' scoring keys (and licensed wording)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from matcher.core.learning.instruments import INSTRUMENTS
from matcher.schemas.catalogue import InstrumentListSchema
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

blp = ApiBlueprint(
    "instruments", __name__, url_prefix="/api/v1", description="Alliance instruments"
)


@blp.route("/instruments")
class Instruments(MethodView):
    """Alliance instruments."""

    @blp.requires("outcomes")
    @blp.response(200, InstrumentListSchema)
    def get(self) -> dict[str, Any]:
        """Scoring keys for WAI-SR and SRS; no copyrighted wording is shipped."""
        wording = services().wording
        items = [
            {
                "code": inst.code,
                "name": inst.name,
                "items": inst.n_items,
                "item_min": inst.item_min,
                "item_max": inst.item_max,
                "integer_items": inst.integer_items,
                "subscales": {k: list(v) for k, v in inst.subscales.items()},
                "score": f"(total - {inst.total_min:g}) / {inst.total_max - inst.total_min:g}",
                "concern_below": inst.concern_below,
                "wording": wording.get(inst.code),
            }
            for inst in INSTRUMENTS.values()
        ]
        return {"items": items}
