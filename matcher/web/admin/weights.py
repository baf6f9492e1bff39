"""The weights in force, every version across time, and one version with its evaluation."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from matcher.services import audit
from matcher.services import models as model_versions
from matcher.services.errors import NotFound
from matcher.web.admin import bp
from matcher.web.admin.display import points, weight_rows
from matcher.web.context import services

# Held-out measures as the evaluation names them, and what each says in words.
METRICS = (
    ("mae", "Mean absolute error", "lower is better"),
    ("rmse", "Root mean squared error", "lower is better"),
    ("spearman", "Rank correlation, all ratings", "higher is better"),
    ("spearman_within_therapist", "Rank correlation within each therapist", "higher is better"),
)


@bp.get("/")
def home() -> ResponseReturnValue:
    """The weights every match uses now, with what each means, and the history of versions."""
    from matcher.web.admin import charts  # altair and its renderer, loaded on first use

    with services().reading() as session:
        active = model_versions.active_version(session)
        versions = model_versions.list_versions(session)
        publication = audit.published(session, version=active.version)
    return render_template(
        "admin/home.html",
        title="Weights in force",
        errors={},
        active=active,
        rows=weight_rows(active.weights),
        publication=publication,
        versions=versions,
        history=charts.weights_over_versions(versions, active.version),
        intercept_points=12 + points(active.intercept),
    )


@bp.get("/models/<int:version>")
def version(version: int) -> ResponseReturnValue:
    """One version beside the weights in force; a learned one with its evaluation and plots."""
    from matcher.web.admin import charts  # altair and its renderer, loaded on first use

    with services().reading() as session:
        try:
            model = model_versions.get_version(session, version=version)
        except NotFound:
            abort(404)
        active = model_versions.active_version(session)
        publication = audit.published(session, version=version)
    evaluation = model.evaluation if model.source == "learned" else None
    plots = (
        [charts.intervals(evaluation, active.weights), charts.calibration(evaluation)]
        if evaluation
        else []
    )
    return render_template(
        "admin/version.html",
        title=f"Version {model.version}",
        errors={},
        model=model,
        active=active,
        rows=weight_rows(model.weights),
        in_force=active.weights,
        publication=publication,
        evaluation=evaluation,
        metrics=METRICS,
        plots=plots,
    )
