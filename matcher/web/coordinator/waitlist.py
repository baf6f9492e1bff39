"""The waitlist page: clients still waiting (recorded or uploaded) placed all at once."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matcher.services import waitlist
from matcher.services.errors import Conflict, Invalid, Malformed
from matcher.services.waitlist import WaitingClient
from matcher.services.waitlist_files import read_waitlist
from matcher.web.context import services
from matcher.web.coordinator import bp
from matcher.web.people import role_required

TITLE = "Waitlist assignment"
_CLIENT = re.compile(r"^clients\[(\d+)\]\.?(.*)$")


def _file_report(errors: Mapping[str, list[str]], clients: Sequence[WaitingClient]) -> list[str]:
    """Each problem as a person can act on it: "Client 3 (w-3): intake.jurisdiction: …"."""
    lines: list[str] = []
    for path, messages in errors.items():
        found = _CLIENT.match(path)
        if found is None:
            lines.extend(messages)
            continue
        index = int(found.group(1))
        who = f" ({clients[index].client_ref})" if index < len(clients) else ""
        where = f"Client {index + 1}{who}: {found.group(2) or 'record'}"
        lines.extend(f"{where}: {message}" for message in messages)
    return lines


def _waiting() -> list[WaitingClient]:
    with services().reading() as session:
        return waitlist.waiting(session, organisation_id=current_user.reach)


def _chosen(waiting: Sequence[WaitingClient], refs: Sequence[str]) -> list[WaitingClient]:
    """The recorded waiting clients a coordinator ticked, in waiting order."""
    wanted = set(refs)
    return [c for c in waiting if c.client_ref in wanted]


def _uploaded(errors: dict[str, list[str]]) -> list[WaitingClient]:
    """Clients from the uploaded file (or the proposal's hidden copy of it)."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            content = upload.read().decode("utf-8-sig")
            return read_waitlist(content, upload.filename)
        except UnicodeDecodeError:
            errors["file"] = ["Save the file as UTF-8 text."]
        except (Invalid, Malformed) as refusal:
            errors["file"] = _file_report(refusal.errors or {"file": [refusal.detail]}, [])
        return []
    carried = request.form.get("uploaded", "")
    if not carried:
        return []
    try:
        return read_waitlist(carried, "uploaded.json")
    except (Invalid, Malformed) as refusal:
        errors["file"] = _file_report(refusal.errors or {}, [])
        return []


def _form(waiting: Sequence[WaitingClient], errors: dict[str, list[str]]) -> ResponseReturnValue:
    chosen = set(request.form.getlist("client"))
    page = render_template(
        "coordinator/waitlist.html", title=TITLE, waiting=waiting, chosen=chosen, errors=errors
    )
    return (page, 400) if errors else page


def _proposal_page(
    clients: Sequence[WaitingClient],
    proposal: waitlist.Proposal,
    errors: dict[str, list[str]],
    status: int = 200,
) -> ResponseReturnValue:
    uploaded = [
        {"client_ref": c.client_ref, "intake": dict(c.intake)} for c in clients if not c.match_id
    ]
    page = render_template(
        "coordinator/waitlist_proposal.html",
        title="Proposed waitlist assignment",
        clients=clients,
        proposal=proposal,
        placed={p.client_ref: p for p in proposal.assignments},
        waiting_reason={u.client_ref: u.reason for u in proposal.unassigned},
        greedy={g.client_ref: g for g in proposal.greedy},
        recorded=[c.client_ref for c in clients if c.match_id],
        uploaded=json.dumps(uploaded, separators=(",", ":")) if uploaded else "",
        expected=json.dumps(
            {p.client_ref: p.therapist_id for p in proposal.assignments}, separators=(",", ":")
        ),
        errors=errors,
    )
    return page, status


def _gather(errors: dict[str, list[str]]) -> tuple[list[WaitingClient], list[WaitingClient]]:
    """(every recorded waiting client, the clients this request asks to place)."""
    waiting = _waiting()
    every = request.form.get("all_waiting") == "yes"
    chosen = list(waiting) if every else _chosen(waiting, request.form.getlist("client"))
    clients = chosen + _uploaded(errors)
    return waiting, clients


@bp.get("/waitlist")
@role_required("coordinator")
def waitlist_page() -> ResponseReturnValue:
    """Choose the waiting clients to place: recorded ones, or a file."""
    return _form(_waiting(), {})


@bp.post("/waitlist")
@role_required("coordinator")
def propose_waitlist() -> ResponseReturnValue:
    """Propose the assignment with the best total, greedy's beside it."""
    errors: dict[str, list[str]] = {}
    waiting, clients = _gather(errors)
    if not clients and not errors:
        errors["client"] = ["Tick the waiting clients to place, or upload a waitlist file."]
    if errors:
        return _form(waiting, errors)
    try:
        proposal = waitlist.propose(matching=services().matching, clients=clients, explain=True)
    except Invalid as refusal:
        return _form(waiting, {"file": _file_report(refusal.errors or {}, clients)})
    return _proposal_page(clients, proposal, {})


@bp.post("/waitlist/commit")
@role_required("coordinator")
def commit_waitlist() -> ResponseReturnValue:
    """Refer every placed client as proposed, all or nothing."""
    errors: dict[str, list[str]] = {}
    waiting, clients = _gather(errors)
    if errors or not clients:
        return _form(waiting, errors or {"client": ["The waitlist to commit is empty."]})
    app = services()
    if request.form.get("confirm") != "yes":
        proposal = waitlist.propose(matching=app.matching, clients=clients, explain=True)
        message = "Tick the box to confirm the referrals."
        return _proposal_page(clients, proposal, {"confirm": [message]}, 400)
    try:
        expected: Any = json.loads(request.form.get("expected", "{}"))
    except ValueError:
        expected = {}
    try:
        with app.writing() as session:
            proposal, made = waitlist.commit(
                session,
                matching=app.matching,
                clients=clients,
                key_id=current_user.ref,
                explain=True,
                organisation_id=current_user.organisation_id,
                expected=expected if isinstance(expected, dict) else {},
            )
    except Conflict as refusal:
        proposal = waitlist.propose(matching=app.matching, clients=clients, explain=True)
        return _proposal_page(clients, proposal, {"confirm": [refusal.detail]}, 409)
    count = len(made)
    flash(
        f"Referred {count} client{'' if count == 1 else 's'}; "
        f"{len(proposal.unassigned)} still waiting.",
        "success",
    )
    return redirect(url_for("coordinator.waitlist_page"), code=303)
