"""Preview what a candidate changes, publish it with a note, or make an earlier version active."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matcher.core.scoring import FEATURES
from matcher.services import models as model_versions
from matcher.services import preview as previews
from matcher.services.errors import NotFound
from matcher.services.models import ModelVersion
from matcher.web.admin import bp
from matcher.web.admin.display import weight_rows
from matcher.web.context import services


def _version(version: int) -> tuple[ModelVersion, ModelVersion]:
    """The version asked for and the one in force; 404 when there is no such version."""
    with services().reading() as session:
        try:
            model = model_versions.get_version(session, version=version)
        except NotFound:
            abort(404)
        return model, model_versions.active_version(session)


def _intakes() -> int:
    """How many recorded intakes to replay (the default when not a whole number in range)."""
    raw = request.values.get("intakes", "")
    if raw.isdigit() and 1 <= int(raw) <= previews.MAX_INTAKES:
        return int(raw)
    return previews.DEFAULT_INTAKES


def _preview_page(version: int, errors: dict[str, list[str]], note: str) -> ResponseReturnValue:
    from matcher.web.admin import charts  # altair and its renderer, loaded on first use

    model, active = _version(version)
    intakes = _intakes()
    app = services()
    with app.reading() as session:
        found = previews.preview(
            session,
            snapshot=app.matching.snapshot(),
            candidate=model_versions.as_weight_set(model),
            intakes=intakes,
        )
    page = render_template(
        "admin/preview.html",
        title=f"Preview version {model.version}",
        errors=errors,
        model=model,
        active=active,
        found=found,
        asked=intakes,
        note=note,
        features=FEATURES,
        exposure=charts.exposure(found.exposure) if found.with_results else None,
    )
    return page, 400 if errors else 200


@bp.get("/models/<int:version>/preview")
def preview(version: int) -> ResponseReturnValue:
    """Recorded intakes replayed under the candidate and the model in force, then publish."""
    return _preview_page(version, {}, "")


@bp.post("/models/<int:version>/publish")
def publish(version: int) -> ResponseReturnValue:
    """Put a version in force for every match; a note saying why is required."""
    note = request.form.get("note", "").strip()
    if not note:
        errors = {"note": ["Say why you publish this version: the audit log keeps it."]}
        return _preview_page(version, errors, note)
    _version(version)
    with services().writing() as session:
        model_versions.activate(session, version=version, actor=current_user.actor, note=note)
    flash(f"Version {version} is in force: every match uses it from now on.", "success")
    return redirect(url_for("admin.home"), code=303)


@bp.route("/models/<int:version>/restore", methods=["GET", "POST"])
def restore(version: int) -> ResponseReturnValue:
    """Make an earlier version active again (a rollback), after one confirmation."""
    model, active = _version(version)
    if request.method == "POST" and model.version != active.version:
        note = request.form.get("note", "").strip() or f"Rolled back to version {version}."
        with services().writing() as session:
            model_versions.activate(session, version=version, actor=current_user.actor, note=note)
        flash(f"Version {version} is in force again (was version {active.version}).", "success")
        return redirect(url_for("admin.home"), code=303)
    return render_template(
        "admin/restore.html",
        title=f"Make version {version} active again",
        errors={},
        model=model,
        active=active,
        rows=weight_rows(model.weights),
    )
