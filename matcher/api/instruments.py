"""``GET /api/v1/instruments``: the alliance instruments' scoring keys (and licensed wording)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from matcher.api.blueprint import ApiBlueprint
from matcher.learning.instruments import INSTRUMENTS

blp = ApiBlueprint(
    "instruments", __name__, url_prefix="/api/v1", description="Alliance instruments"
)


class InstrumentSchema(Schema):
    """One instrument's scoring key; item wording only when a licensed file was loaded."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    items = fields.Integer(required=True)
    item_min = fields.Float(required=True)
    item_max = fields.Float(required=True)
    integer_items = fields.Boolean(required=True)
    subscales = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Integer()),
        required=True,
        metadata={"description": "Subscale -> its 1-based item numbers"},
    )
    score = fields.String(required=True, metadata={"description": "How the 0..1 score is made"})
    concern_below = fields.Float(allow_none=True, required=True)
    wording = fields.List(
        fields.String(),
        allow_none=True,
        required=True,
        metadata={"description": "Item texts from MATCHER_INSTRUMENT_WORDING; null otherwise"},
    )


class InstrumentListSchema(Schema):
    """Every instrument."""

    items = fields.List(fields.Nested(InstrumentSchema), required=True)


@blp.route("/instruments")
class Instruments(MethodView):
    """Alliance instruments."""

    @blp.requires("outcomes")
    @blp.response(200, InstrumentListSchema)
    def get(self) -> dict[str, Any]:
        """Scoring keys for WAI-SR and SRS; no copyrighted wording is shipped."""
        wording = current_app.extensions["matcher"].wording
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
