"""The crisis path: resources for the client's place, and the urgent queue a person works."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.services.referrals import new_id
from matcher.storage.organisations import within
from matcher.storage.tables import DEFAULT_ORGANISATION, UrgentCase
from matcher.storage.types import utcnow

__all__ = ["RISK_ANSWERS", "UrgentCase", "close", "open_case", "resources_for", "take"]

DEFAULT_RESOURCES = Path(__file__).resolve().parents[1] / "web" / "coordinator" / "data"
RISK_ANSWERS: Mapping[str, str] = {
    "no": "No",
    "yes": "Yes",
    "not_sure": "Not sure",
}
URGENT_ANSWERS = frozenset({"yes", "not_sure"})


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, list[dict[str, str]]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def resources_for(jurisdiction: str, *, path: str | None = None) -> list[dict[str, str]]:
    """Crisis resources for a jurisdiction: its own entries first, then its country's."""
    data = _load(path or str(DEFAULT_RESOURCES / "crisis_resources.json"))
    country = jurisdiction.split("-")[0]
    return [*data.get(jurisdiction, []), *data.get(country, [])]


def open_case(
    session: Session,
    *,
    risk: str,
    jurisdiction: str,
    match_id: str | None,
    client_ref: str | None,
    created_by: str,
    organisation_id: str = DEFAULT_ORGANISATION,
) -> UrgentCase | None:
    """Put a client who may be at risk now in the urgent queue of ``organisation_id`` (None
    when the answer was no)."""
    if risk not in RISK_ANSWERS:
        raise Invalid("Answer yes, no or not sure.", {"risk": ["Choose one."]})
    if risk not in URGENT_ANSWERS:
        return None
    case = UrgentCase(
        id=new_id("u"),
        match_id=match_id,
        client_ref=client_ref,
        jurisdiction=jurisdiction,
        risk=risk,
        created_at=utcnow(),
        created_by=created_by,
        organisation_id=organisation_id,
    )
    session.add(case)
    return case


def open_cases(session: Session, *, organisation_id: str | None = None) -> list[UrgentCase]:
    """Every case of ``organisation_id`` (None: of all) still waiting for a person, oldest
    first."""
    query = select(UrgentCase).where(
        col(UrgentCase.closed_at).is_(None),
        within(col(UrgentCase.organisation_id), organisation_id),
    )
    return list(session.execute(query.order_by(col(UrgentCase.created_at))).scalars())


def case_for_match(
    session: Session,
    *,
    match_id: str,
    client_ref: str | None = None,
    organisation_id: str | None = None,
) -> UrgentCase | None:
    """The urgent case opened with this match, else an open one for the same client (within
    ``organisation_id``; None: any)."""
    mine = within(col(UrgentCase.organisation_id), organisation_id)
    query = select(UrgentCase).where(col(UrgentCase.match_id) == match_id, mine)
    found = session.execute(query).scalars().first()
    if found is None and client_ref:
        query = select(UrgentCase).where(
            col(UrgentCase.client_ref) == client_ref, col(UrgentCase.closed_at).is_(None), mine
        )
        found = session.execute(query.order_by(col(UrgentCase.created_at))).scalars().first()
    return found


def _case(session: Session, case_id: str, organisation_id: str | None) -> UrgentCase:
    case = session.get(UrgentCase, case_id)
    if case is None or organisation_id not in (None, case.organisation_id):
        raise NotFound(f"No urgent case {case_id!r}.")
    return case


def take(
    session: Session, *, case_id: str, by: str, organisation_id: str | None = None
) -> UrgentCase:
    """A person takes a case of ``organisation_id`` (Conflict when someone else already has)."""
    case = _case(session, case_id, organisation_id)
    if case.taken_by is not None and case.taken_by != by:
        raise Conflict(f"Already taken by {case.taken_by}.")
    case.taken_by, case.taken_at = by, utcnow()
    session.add(case)
    return case


def close(
    session: Session, *, case_id: str, by: str, action: str, organisation_id: str | None = None
) -> UrgentCase:
    """Record what was done and take a case of ``organisation_id`` off the queue."""
    action = action.strip()
    if not action:
        raise Invalid("Say what was done.", {"action": ["Say what was done for the client."]})
    case = _case(session, case_id, organisation_id)
    if case.taken_by is None:
        case.taken_by, case.taken_at = by, utcnow()
    case.action = action[:1000]
    case.closed_at = utcnow()
    session.add(case)
    return case
