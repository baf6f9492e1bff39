"""The audit log: every change, who made it, when, what changed and why, by kind and date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue

from matcher.services import audit
from matcher.web.admin import bp
from matcher.web.admin.display import changes
from matcher.web.context import services

PAGE_SIZE = 50


def _day(name: str, errors: dict[str, list[str]]) -> date | None:
    """A date field (``YYYY-MM-DD``), None when empty; a note in ``errors`` when not a date."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = ["Enter a date like 2026-03-02."]
        return None


def _start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    """Every change, newest first, filtered by kind and by day (both days included, UTC)."""
    errors: dict[str, list[str]] = {}
    since, until = _day("since", errors), _day("until", errors)
    if since and until and until < since:
        errors["until"] = ["The last day must be on or after the first day."]
    kind = request.args.get("action", "").strip()
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) >= 1 else 1
    with services().reading() as session:
        kinds = audit.kinds(session)
        found = audit.search(
            session,
            actions=[kind] if kind else [],
            since=_start(since),
            until=_start(until + timedelta(days=1)) if until else None,
            page=page,
            page_size=PAGE_SIZE,
        )
    page_html = render_template(
        "admin/audit.html",
        title="Audit log",
        errors=errors,
        kinds=kinds,
        kind=kind,
        since=request.args.get("since", ""),
        until=request.args.get("until", ""),
        found=found,
        changes=changes,
    )
    return page_html, 400 if errors else 200
