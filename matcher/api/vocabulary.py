"""``GET /api/v1/vocabulary``: every code list with labels, for integrators' own forms."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from matcher import vocabulary
from matcher.api.blueprint import ApiBlueprint

blp = ApiBlueprint(
    "vocabulary", __name__, url_prefix="/api/v1", description="Code lists with labels"
)


class TermSchema(Schema):
    """One code and its label."""

    code = fields.String(required=True)
    label = fields.String(required=True)


def _terms() -> fields.List[dict[str, str]]:
    return fields.List(fields.Nested(TermSchema), required=True)


class VocabularySchema(Schema):
    """Every code list the profile and intake fields draw from."""

    modalities = _terms()
    concerns = _terms()
    populations = _terms()
    identities = _terms()
    faiths = _terms()
    formats = _terms()
    genders = _terms()
    languages = _terms()
    jurisdictions = _terms()
    style_dimensions = _terms()
    days = _terms()


@blp.route("/vocabulary")
class Vocabulary(MethodView):
    """The code lists."""

    @blp.response(200, VocabularySchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Every code list with labels (no key needed)."""
        return vocabulary.catalogue(), 200, {"Cache-Control": "public, max-age=3600"}
