"""The exposure audit page: which therapist groups reach the first page, who is served well."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from matcher.web.admin import bp
from matcher.web.admin.audit import _day, _start
from matcher.web.api.audits import exposure_audit as audit_of


@bp.get("/exposure")
def exposure_page() -> ResponseReturnValue:
    """The exposure audit over recorded matches, by day (both days included, UTC)."""
    from matcher.web.admin.charts_exposure import exposure_audit, group_label  # altair

    errors: dict[str, list[str]] = {}
    since, until = _day("since", errors), _day("until", errors)
    if since and until and until < since:
        errors["until"] = ["The last day must be on or after the first day."]
    query: dict[str, Any] = {}
    if not errors:
        query = {
            "since": _start(since),
            "until": _start(until + timedelta(days=1)) if until else None,
        }
    # The same audit the API answers with: the page and the endpoint cannot disagree.
    audit = audit_of(query)
    groups = audit["therapist_groups"]
    body = render_template(
        "admin/exposure.html",
        title="Exposure audit",
        errors=errors,
        since=request.args.get("since", ""),
        until=request.args.get("until", ""),
        audit=audit,
        chart=exposure_audit(groups) if groups else None,
        under=[group_label(g) for g in groups if g["under_four_fifths"]],
        label=group_label,
    )
    return body, 400 if errors else 200
