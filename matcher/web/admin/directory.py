"""The directory: upload a file of profiles (all or nothing), find therapists, deactivate one."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import chain, islice
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matcher import vocabulary as vocab
from matcher.services import audit, directory, freshness
from matcher.services.errors import Invalid, NotFound, Refused
from matcher.web.admin import bp
from matcher.web.availability import availability_links
from matcher.web.context import services

PAGE_SIZE = 25
# Past this many, the report says how many more problems there are rather than listing them.
MAX_REPORTED = 50
_RECORD = re.compile(r"^\[(\d+)\]\.?(.*)$")


def record_report(errors: Mapping[str, list[str]], records: Sequence[Any] = ()) -> list[str]:
    """Each problem as a person can act on it: "Record 3 (id t-9): licenses[0].jurisdiction: …"."""
    lines: list[str] = []
    for path, messages in errors.items():
        found = _RECORD.match(path)
        if found is None:
            where = path[0].upper() + path[1:] if path.startswith("line") else "The file"
        else:
            index, field = int(found.group(1)), found.group(2) or "record"
            record = records[index] if index < len(records) else None
            named = record.get("id") if isinstance(record, dict) else None
            who = f" (id {named})" if isinstance(named, str) and named else ""
            where = f"Record {index + 1}{who}: {field}"
        lines.extend(f"{where}: {message}" for message in messages)
    return lines


def _read_upload() -> list[Any]:
    """The uploaded file's records (NDJSON read a line at a time), at most one past the limit."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Choose a file to upload.", {"file": ["Choose a file to upload."]})
    settings = services().settings
    chunks = directory.read_chunks(upload.stream)
    first = next(chunks, b"")
    name = upload.filename.lower()
    array = first.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"[")
    ndjson = name.endswith((".ndjson", ".jsonl")) or not array
    if ndjson:
        records = directory.ndjson_records(chain([first], chunks))
        return list(islice(records, settings.max_import_records + 1))
    body = first + upload.stream.read(settings.max_import_json_bytes + 1 - len(first))
    if len(body) > settings.max_import_json_bytes:
        limit = f"{settings.max_import_json_bytes >> 20} MiB"
        raise Invalid(
            f"A JSON array file may be at most {limit}; NDJSON (one profile a line) may be larger.",
            {"file": [f"At most {limit} as a JSON array."]},
        )
    return directory.json_array(body)


def _page(errors: dict[str, list[str]], report: list[str]) -> ResponseReturnValue:
    text = request.args.get("q", "").strip()
    jurisdiction = request.args.get("jurisdiction", "").strip()
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) >= 1 else 1
    with services().reading() as session:
        found, total = directory.search_therapists(
            session,
            text=text or None,
            jurisdiction=jurisdiction or None,
            page=page,
            page_size=PAGE_SIZE,
        )
        active = directory.count_active(session)
        settings = services().settings
        fresh = services().matching.freshness
        stale, stale_total = freshness.stale_therapists(session, freshness=fresh)
        stale_links = {
            t.id: availability_links(
                freshness.token_for(t, secret=settings.secret_key),
                settings.availability_link_days,
            )
            for t in stale
        }
    jurisdictions = [
        (code, f"{name} ({code})") for code, name in sorted(vocab.jurisdictions().items())
    ]
    body = render_template(
        "admin/directory.html",
        title="Directory",
        errors=errors,
        report=report[:MAX_REPORTED],
        more=max(0, len(report) - MAX_REPORTED),
        therapists=found,
        total=total,
        active=active,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=text,
        jurisdiction=jurisdiction,
        jurisdictions=jurisdictions,
        stale=stale,
        stale_total=stale_total,
        stale_links=stale_links,
        stale_after_days=fresh.stale_after_days,
    )
    return body, 400 if errors else 200


@bp.get("/directory")
def directory_page() -> ResponseReturnValue:
    """Find therapists by part of a name or id, and by jurisdiction, a page at a time."""
    return _page({}, [])


@bp.post("/directory/import")
def import_profiles() -> ResponseReturnValue:
    """Import a JSON array or NDJSON file of profiles: all of them, or none and why."""
    records: list[Any] = []
    try:
        records = _read_upload()
        settings = services().settings
        limits = directory.ImportLimits(settings.max_import_records, settings.max_import_errors)
        batch = directory.validate_import(records, limits=limits)
        with services().writing() as session:
            created, updated = directory.import_profiles(session, profiles=batch)
            audit.record(
                session,
                actor=current_user.actor,
                action="directory.import",
                subject=f"file:{request.files['file'].filename}"[:100],
                details={"created": created, "updated": updated},
            )
    except Refused as refusal:
        report = record_report(refusal.errors, records)
        summary = f"{refusal.detail} Fix the file and upload it again."
        return _page({"file": [summary]}, report)
    flash(f"Imported {created + updated} profiles: {created} new, {updated} replaced.", "success")
    return redirect(url_for("admin.directory_page"), code=303)


@bp.post("/directory/<string:therapist_id>/deactivate")
def deactivate(therapist_id: str) -> ResponseReturnValue:
    """Stop matching a therapist; their history stays and a new upload brings them back."""
    try:
        with services().writing() as session:
            directory.deactivate(session, therapist_id=therapist_id)
            audit.record(
                session,
                actor=current_user.actor,
                action="therapist.deactivate",
                subject=f"therapist:{therapist_id}",
            )
    except NotFound:
        abort(404)
    flash(f"{therapist_id} is no longer matched.", "success")
    back = request.form.get("back", "")
    # Only back to a page of this directory list (never elsewhere: no open redirect).
    if not back.startswith(url_for("admin.directory_page")) or "//" in back:
        back = url_for("admin.directory_page")
    return redirect(back, code=303)
