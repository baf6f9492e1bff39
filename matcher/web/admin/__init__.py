"""The admin console under ``/admin/``: weights, candidates, publishing, people, keys, directory."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from matcher.web.admin.display import audit_kind, when
from matcher.web.context import services
from matcher.web.people import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_filter(when, "admin_when")
bp.add_app_template_filter(audit_kind, "audit_kind")


@bp.before_request
@role_required("admin")
def _admins_only() -> ResponseReturnValue | None:
    """Every page here is for admins only (a coordinator gets 403), checked once for all."""
    return None


@bp.url_value_preprocessor
def _allow_large_imports(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """A directory file may be larger than a form; runs before the CSRF check reads the body."""
    if endpoint == "admin.import_profiles":
        request.max_content_length = services().settings.max_import_bytes


# The views register themselves on ``bp`` when imported.
from matcher.web.admin import (  # noqa: E402
    audit,
    candidates,
    directory,
    exposure,
    people,
    publishing,
    weights,
)

__all__ = [
    "audit",
    "bp",
    "candidates",
    "directory",
    "exposure",
    "people",
    "publishing",
    "weights",
]
