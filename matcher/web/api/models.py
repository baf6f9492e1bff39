"""Model versions (scope ``admin``): list, read, create, train, activate and roll back."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from matcher.schemas.common import PageQuerySchema
from matcher.schemas.models import (
    AuditEventSchema,
    AuditPageSchema,
    ModelListSchema,
    ModelRequestSchema,
    ModelSchema,
    NoteSchema,
)
from matcher.services import models as model_versions
from matcher.services import training
from matcher.services.keys import ApiKey
from matcher.services.models import ModelVersion
from matcher.web.api.auth import current_key
from matcher.web.api.blueprint import ApiBlueprint
from matcher.web.context import services

blp = ApiBlueprint("models", __name__, url_prefix="/api/v1", description="Model versions")


def actor(key: ApiKey) -> str:
    """How the audit log names an API key."""
    return f"key:{key.id} ({key.name})"


def _document(model: ModelVersion) -> dict[str, Any]:
    doc = {name: getattr(model, name) for name in ModelSchema().fields}
    if model.source != "learned":
        doc.pop("evaluation")
    return doc


@blp.route("/models")
class Models(MethodView):
    """Model versions."""

    @blp.requires("admin")
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, ModelListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every version, newest first, a page at a time."""
        page, size = query["page"], query["page_size"]
        with services().reading() as session:
            models = model_versions.list_versions(session)
        items = [_document(m) for m in models[(page - 1) * size : page * size]]
        return {"items": items, "total": len(models), "page": page, "page_size": size}

    @blp.requires("admin")
    @blp.arguments(ModelRequestSchema())
    @blp.response(201, ModelSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store a manual candidate (weights >= 0, known features only)."""
        with services().writing() as session:
            model = model_versions.create_candidate(
                session, actor=actor(current_key()), source="manual", **body
            )
            return _document(model)


@blp.route("/models/active")
class ActiveModel(MethodView):
    """The version every match uses."""

    @blp.requires("admin")
    @blp.response(200, ModelSchema)
    def get(self) -> dict[str, Any]:
        """The active version."""
        with services().reading() as session:
            return _document(model_versions.active_version(session))


@blp.route("/models/<int(max=2147483647):version>")
class ModelByVersion(MethodView):
    """One version."""

    @blp.requires("admin")
    @blp.response(200, ModelSchema)
    def get(self, version: int) -> dict[str, Any]:
        """One version, with its evaluation when it was learned."""
        with services().reading() as session:
            return _document(model_versions.get_version(session, version=version))


@blp.route("/models/<int(max=2147483647):version>/activate")
class Activate(MethodView):
    """Activation and rollback."""

    @blp.requires("admin")
    @blp.arguments(NoteSchema(), required=False)
    @blp.response(200, ModelSchema)
    def post(self, body: dict[str, Any] | None, version: int) -> dict[str, Any]:
        """Make this version the one every match uses; an older one is a rollback."""
        note = (body or {}).get("note", "")
        with services().writing() as session:
            model = model_versions.activate(
                session, version=version, actor=actor(current_key()), note=note
            )
            return _document(model)


@blp.route("/models/train")
class Train(MethodView):
    """Learning."""

    @blp.requires("admin")
    @blp.arguments(NoteSchema(), required=False)
    @blp.response(201, ModelSchema)
    def post(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """Learn a candidate from the early-alliance ratings, evaluated against the active model."""
        # Fitting reads only, so it holds no write lock; storing the candidate is the write.
        with services().reading() as session:
            learned = training.learn(session)
        with services().writing() as session:
            model = training.store(
                session,
                learned=learned,
                note=(body or {}).get("note", ""),
                actor=actor(current_key()),
            )
            return _document(model)


@blp.route("/audit")
class Audit(MethodView):
    """The audit log."""

    @blp.requires("admin")
    @blp.response(200, AuditPageSchema)
    def get(self) -> dict[str, Any]:
        """The newest 100 audit events."""
        with services().reading() as session:
            events = model_versions.audit_events(session)
            return {
                "items": [{n: getattr(e, n) for n in AuditEventSchema().fields} for e in events]
            }
