"""``GET /api/v1/vocabulary``: every code list with labels, for integrators' own forms."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from matcher import vocabulary
from matcher.schemas.catalogue import VocabularySchema
from matcher.web.api.blueprint import ApiBlueprint

blp = ApiBlueprint(
    "vocabulary", __name__, url_prefix="/api/v1", description="Code lists with labels"
)


@blp.route("/vocabulary")
class Vocabulary(MethodView):
    """The code lists."""

    @blp.response(200, VocabularySchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Every code list with labels (no key needed)."""
        return vocabulary.catalogue(), 200, {"Cache-Control": "public, max-age=3600"}
