"""New candidates: weights typed by hand (the API's own validation), or learned from ratings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from matcher.core.learning.minimums import MINIMUM_RATINGS, MINIMUM_THERAPISTS
from matcher.core.scoring import FEATURES
from matcher.schemas.fields import flatten_errors
from matcher.schemas.models import ModelRequestSchema
from matcher.services import evidence, training
from matcher.services import models as model_versions
from matcher.services.errors import Invalid
from matcher.web.admin import bp
from matcher.web.admin.display import weight_rows
from matcher.web.context import services
from matcher.web.forms import merge_errors, number, text

_REQUEST = ModelRequestSchema()
FORM_ORDER = (*(f"weights.{name}" for name in FEATURES), "intercept", "note")


def read_form(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The request body the form describes (as ``POST /api/v1/models`` takes it), and its errors."""
    errors: dict[str, list[str]] = {}
    weights = {name: number(form, f"weights.{name}", errors) for name in FEATURES}
    for name, value in weights.items():
        if value is None and f"weights.{name}" not in errors:
            errors[f"weights.{name}"] = ["Enter a weight, 0 if this feature should not count."]
    intercept = number(form, "intercept", errors)
    if intercept is None and "intercept" not in errors:
        errors["intercept"] = ["Enter the starting value, between 0 and 1."]
    note = form.get("note", "").strip()
    if not note:
        errors["note"] = ["Say why these weights: the audit log keeps it with the version."]
    body = {"weights": {k: v for k, v in weights.items() if v is not None}, "note": note}
    if intercept is not None:
        body["intercept"] = intercept
    return body, errors


def validate(form: MultiDict[str, str]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The form through ModelRequestSchema and check_weights, as the API validates it."""
    body, errors = read_form(form)
    try:
        loaded: dict[str, Any] = _REQUEST.load(body)
    except ValidationError as err:
        found = flatten_errors(err.normalized_messages())  # type: ignore[no-untyped-call]
        return None, _ordered(
            merge_errors(errors, {k: v for k, v in found.items() if k not in errors})
        )
    try:
        model_versions.check_weights(loaded["weights"], loaded["intercept"])
    except Invalid as refusal:
        errors = merge_errors(errors, refusal.errors)
    return (None, _ordered(errors)) if errors else (loaded, {})


def _ordered(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Errors in the order their fields stand on the page, each naming its field."""
    rank = {name: i for i, name in enumerate(FORM_ORDER)}
    named = {
        path: [f"{_label(path)}: {m}" if _label(path) else m for m in msgs]
        for path, msgs in errors.items()
    }
    return dict(sorted(named.items(), key=lambda item: rank.get(item[0], len(rank))))


def _label(path: str) -> str:
    """The field's label as the page shows it."""
    if path.startswith("weights."):
        return path.removeprefix("weights.").capitalize() + " weight"
    return {"intercept": "Starting value", "note": ""}.get(path, path)


@bp.route("/models/new", methods=["GET", "POST"])
def new_candidate() -> ResponseReturnValue:
    """A candidate typed by hand, starting from the weights in force; nothing typed is lost."""
    with services().reading() as session:
        active = model_versions.active_version(session)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        loaded, errors = validate(request.form)
        if loaded is not None:
            with services().writing() as session:
                model = model_versions.create_candidate(
                    session, actor=current_user.actor, source="manual", **loaded
                )
                number_ = model.version
            flash(
                f"Version {number_} stored as a candidate: it does nothing until published.",
                "success",
            )
            return redirect(url_for("admin.version", version=number_), code=303)
        values: Mapping[str, Any] = request.form
    else:
        values = {f"weights.{k}": f"{v:g}" for k, v in active.weights.items()}
        values = {**values, "intercept": f"{active.intercept:g}"}
    page = render_template(
        "admin/new_candidate.html",
        title="Propose weights",
        errors=errors,
        values=values,
        rows=weight_rows(active.weights),
        active=active,
    )
    return page, 400 if errors else 200


@bp.route("/models/learn", methods=["GET", "POST"])
def learn() -> ResponseReturnValue:
    """Learn a candidate from the early-alliance ratings, then show its evaluation."""
    errors: dict[str, list[str]] = {}
    note = text(request.form, "note") if request.method == "POST" else None
    if request.method == "POST":
        try:
            with services().reading() as session:
                learned = training.learn(session)
        except Invalid as refusal:
            errors = {"ratings": [refusal.detail]}
        else:
            count = learned.evaluation["n_referrals"]
            with services().writing() as session:
                model = training.store(
                    session,
                    learned=learned,
                    note=note or f"Learned from the early-alliance ratings of {count} referrals.",
                    actor=current_user.actor,
                )
                number_ = model.version
            flash(f"Version {number_} learned: read its evaluation before publishing.", "success")
            return redirect(url_for("admin.version", version=number_, _anchor="evaluation"), 303)
    with services().reading() as session:
        found = evidence.evidence(session)
    page = render_template(
        "admin/learn.html",
        title="Learn from the ratings",
        errors=errors,
        found=found,
        note=note or "",
        minimum=(MINIMUM_RATINGS, MINIMUM_THERAPISTS),
    )
    return page, 400 if errors else 200
