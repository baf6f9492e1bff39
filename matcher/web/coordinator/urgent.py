"""The coordinator's front page, and the urgent queue every coordinator sees."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matcher.services import alerts, crisis
from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.web.context import services
from matcher.web.coordinator import bp
from matcher.web.people import role_required


@bp.get("/")
@role_required("coordinator")
def home() -> ResponseReturnValue:
    """What needs doing: urgent cases first, then rupture alerts, then a new intake."""
    app = services()
    with app.reading() as session:
        cases = crisis.open_cases(session, organisation_id=current_user.reach)
        weak = alerts.open_alerts(
            session,
            wai_below=app.settings.wai_alert_below,
            drop=app.settings.alert_drop_share,
            organisation_id=current_user.reach,
        )
    return render_template("coordinator/home.html", title="Coordinator", cases=cases, alerts=weak)


@bp.get("/urgent")
@role_required("coordinator")
def urgent() -> ResponseReturnValue:
    """Clients who may be at risk now, until a person takes each and records what was done."""
    with services().reading() as session:
        cases = crisis.open_cases(session, organisation_id=current_user.reach)
    return render_template(
        "coordinator/urgent.html", title="Urgent: needs a person", cases=cases, errors={}
    )


@bp.post("/urgent/<string:case_id>/take")
@role_required("coordinator")
def take(case_id: str) -> ResponseReturnValue:
    """Take a case: the others see who has it."""
    try:
        with services().writing() as session:
            crisis.take(
                session, case_id=case_id, by=current_user.email, organisation_id=current_user.reach
            )
        flash("You have taken this case. Record what was done when it is handled.", "success")
    except NotFound:
        abort(404)
    except Conflict as refusal:
        flash(refusal.detail, "info")
    return redirect(url_for("coordinator.urgent", _anchor=f"case-{case_id}"), code=303)


@bp.post("/urgent/<string:case_id>/close")
@role_required("coordinator")
def close(case_id: str) -> ResponseReturnValue:
    """Record what was done; the case leaves the queue."""
    try:
        with services().writing() as session:
            crisis.close(
                session,
                case_id=case_id,
                by=current_user.email,
                action=request.form.get("action", ""),
                organisation_id=current_user.reach,
            )
    except NotFound:
        abort(404)
    except Invalid as refusal:
        with services().reading() as session:
            cases = crisis.open_cases(session, organisation_id=current_user.reach)
        errors = {f"action-{case_id}": [refusal.detail]}
        page = render_template(
            "coordinator/urgent.html", title="Urgent: needs a person", cases=cases, errors=errors
        )
        return page, 400
    flash("Case closed and recorded.", "success")
    return redirect(url_for("coordinator.urgent"), code=303)
